"""The prompt format and the data path: what is supervised, what is cut, and how batches are made."""

import pytest
from transformers import AutoTokenizer

from helpers import tiny_examples
from nava_instruct.errors import InputError
from nava_instruct.fileio import write_jsonl
from nava_instruct.lm.batching import (
    Plan,
    collate,
    encode_file,
    eval_batches,
    length_grouped_batches,
)
from nava_instruct.lm.prompting import (
    IGNORE,
    MIN_PROMPT_TOKENS,
    adds_bos,
    chat_template,
    encode,
    prompt_ids,
    render,
    user_turns,
)

WITH_INPUT = {"instruction": "Explain this.", "input": "let M = circle()", "output": "A circle."}
NO_INPUT = {"instruction": "Write NAVA code.", "input": "", "output": "let M = se2()"}


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="module")
def tokenizer_without_bos(tiny_model):
    from tokenizers import processors

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(single="$A", special_tokens=[])
    return tokenizer


def test_instruction_format_text(tokenizer, tokenizer_without_bos):
    assert render(WITH_INPUT, tokenizer) == (
        "<s>### Instruction:\nExplain this.\n\n### Input:\nlet M = circle()\n\n### Response:\n",
        "A circle.",
    )
    # An empty input leaves out the whole Input block; a tokenizer without BOS gets no BOS text.
    assert not adds_bos(tokenizer_without_bos)
    assert render(NO_INPUT, tokenizer_without_bos) == (
        "### Instruction:\nWrite NAVA code.\n\n### Response:\n",
        "let M = se2()",
    )


@pytest.mark.parametrize("example", [WITH_INPUT, NO_INPUT])
def test_chat_template_renders_the_same_prompt(tokenizer, tokenizer_without_bos, example):
    for tok in (tokenizer, tokenizer_without_bos):
        message = {"role": "user", "content": example["instruction"], "input": example["input"]}
        text = tok.apply_chat_template(
            [message], chat_template=chat_template(tok), add_generation_prompt=True, tokenize=False
        )
        assert text == render(example, tok)[0]
        full = tok.apply_chat_template(
            [message, {"role": "assistant", "content": example["output"]}],
            chat_template=chat_template(tok),
            tokenize=False,
        )
        assert full == text + example["output"] + tok.eos_token


def test_chat_template_format_uses_the_model_template(tokenizer):
    prompt, response = render(WITH_INPUT, tokenizer, "chat_template")
    assert prompt == "<|user|>\nExplain this.\n\nlet M = circle()</s>\n<|assistant|>\n" and response == "A circle."
    encoded = encode(WITH_INPUT, tokenizer, 128, "chat_template")
    assert encoded.input_ids[: len(prompt_ids(tokenizer, prompt))] == prompt_ids(tokenizer, prompt)


@pytest.mark.parametrize("example", [WITH_INPUT, NO_INPUT])
def test_prompt_is_masked_and_eos_is_the_last_supervised_label(tokenizer, example):
    encoded = encode(example, tokenizer, 128)
    prompt = prompt_ids(tokenizer, render(example, tokenizer)[0])
    response = tokenizer(example["output"], add_special_tokens=False).input_ids
    assert encoded.input_ids == prompt + response + [tokenizer.eos_token_id]
    assert encoded.labels == [IGNORE] * len(prompt) + response + [tokenizer.eos_token_id]
    assert encoded.input_ids[0] == tokenizer.bos_token_id and not encoded.truncated


def test_padding_never_masks_eos_even_when_pad_is_eos(tokenizer):
    short, long = encode(NO_INPUT, tokenizer, 128), encode(WITH_INPUT, tokenizer, 128)
    batch = collate([short, long], pad_id=tokenizer.eos_token_id)  # the old script's pad = EOS
    row = batch["labels"][0]
    supervised = row[row != IGNORE]
    assert supervised[-1].item() == tokenizer.eos_token_id
    assert batch["attention_mask"][0].sum().item() == len(short.input_ids) < batch["input_ids"].shape[1]
    assert (row[len(short.input_ids) :] == IGNORE).all()


def test_long_prompt_is_cut_in_the_middle_keeping_response_and_eos(tokenizer):
    example = dict(WITH_INPUT, input="let x = 1\n" * 200)
    full_prompt = prompt_ids(tokenizer, render(example, tokenizer)[0])
    encoded = encode(example, tokenizer, 64)
    response = tokenizer(example["output"], add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    assert encoded.truncated and len(encoded.input_ids) == 64
    assert encoded.input_ids[-len(response) :] == response and encoded.labels[-len(response) :] == response
    kept = 64 - len(response)
    head = kept // 2
    assert encoded.input_ids[:head] == full_prompt[:head]  # BOS and "### Instruction:" survive
    assert encoded.input_ids[head:kept] == full_prompt[-(kept - head) :]  # so does "### Response:"
    assert encoded.labels[:kept] == [IGNORE] * kept


def test_response_too_long_is_dropped_and_counted(tokenizer, tmp_path):
    long_output = dict(NO_INPUT, output="let x = 1\n" * 200)
    assert encode(long_output, tokenizer, 64) is None
    rows = [WITH_INPUT, dict(WITH_INPUT, input="let x = 1\n" * 200), long_output]
    write_jsonl(tmp_path / "d.jsonl", rows)
    write_jsonl(tmp_path / "all.jsonl", [long_output])
    encoded = encode_file(tmp_path / "d.jsonl", tokenizer, 64, "instruction")
    assert (len(encoded.examples), encoded.truncated, encoded.dropped) == (2, 1, 1)
    with pytest.raises(InputError, match="no example fits max_length=64"):
        encode_file(tmp_path / "all.jsonl", tokenizer, 64, "instruction")


def test_a_cut_prompt_keeps_at_least_min_prompt_tokens(tokenizer):
    long_input = dict(WITH_INPUT, input="let x = 1\n" * 200)
    response = len(tokenizer(long_input["output"], add_special_tokens=False).input_ids) + 1  # and EOS
    kept = encode(long_input, tokenizer, response + MIN_PROMPT_TOKENS)
    assert kept.truncated and kept.labels.count(IGNORE) == MIN_PROMPT_TOKENS
    assert encode(long_input, tokenizer, response + MIN_PROMPT_TOKENS - 1) is None


def test_length_grouped_batches_are_a_seeded_permutation_with_little_padding():
    lengths = [(i * 37) % 200 + 10 for i in range(1000)]
    batches = length_grouped_batches(lengths, 8, seed=1, epoch=0)
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    assert batches == length_grouped_batches(lengths, 8, seed=1, epoch=0)
    assert batches != length_grouped_batches(lengths, 8, seed=1, epoch=1)
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
    assert padded < 1.1 * sum(lengths)  # random batches of 8 would pad to ~1.6x


def test_plan_gives_each_process_its_share_of_every_step(tokenizer):
    examples = [encode(row, tokenizer, 128) for row in tiny_examples(48)]
    plan = Plan(examples, batch_size=4, grad_accum=2, world=2, seed=3)
    assert plan.steps_per_epoch == 48 // 4 // 4
    steps = [[plan.step(step, rank) for rank in range(2)] for step in range(plan.steps_per_epoch)]
    members = [i for step in steps for work in step for batch in work.batches for i in batch]
    assert sorted(members) == list(range(48))
    first = steps[0]
    assert all(len(work.batches) == 2 for work in first)
    supervised = sum(
        sum(label != IGNORE for label in examples[i].labels[1:])
        for work in first
        for batch in work.batches
        for i in batch
    )
    assert first[0].supervised == first[1].supervised == supervised


def test_eval_batches_cover_the_set_once(tokenizer):
    examples = [encode(row, tokenizer, 128) for row in tiny_examples(11)]
    shares = [eval_batches(examples, 4, world=2, rank=rank) for rank in range(2)]
    assert len(shares[0]) == len(shares[1]) == 2
    counted = [i for share in shares for batch, counts in share if counts for i in batch]
    assert sorted(counted) == list(range(11))


def test_prompts_and_chat_turns_are_annotated_alike(tokenizer):
    example = {"instruction": "SE(2) from (0, 0) facing 90° to (3, 1)", "input": "", "output": ""}
    prompt, _ = render(example, tokenizer)
    assert "90° (= 1.5707963 rad)" in prompt
    turns = user_turns([{"role": "user", "content": example["instruction"]}, {"role": "assistant", "content": "90°"}])
    assert turns[0]["content"] in prompt
    assert turns[1]["content"] == "90°"


def test_a_follow_up_renders_as_the_chat_template_renders_the_conversation(tokenizer):
    first = "On the plane from (0, 0) to (3, 4), facing 90°."
    program = "let M = euclidean_plane()\n"
    example = {
        "history": [{"role": "user", "content": first}, {"role": "assistant", "content": program}],
        "instruction": "Now add a disc at (2, 2) of radius 0.5.",
        "input": "",
        "output": "let M = euclidean_plane()\nlet d = disc(center: [2.0, 2.0], radius: 0.5)\n",
    }
    prompt, response = render(example, tokenizer)
    chat = tokenizer.apply_chat_template(
        user_turns(example["history"] + [{"role": "user", "content": example["instruction"]}]),
        chat_template=chat_template(tokenizer),
        add_generation_prompt=True,
        tokenize=False,
    )
    assert prompt == chat and response == example["output"]
    assert f"{program}{tokenizer.eos_token}### Instruction:\nNow add" in prompt
    assert "facing 90° (= 1.5707963 rad)." in prompt
    assert encode(example, tokenizer, 512).labels.count(-100) == len(prompt_ids(tokenizer, prompt))
