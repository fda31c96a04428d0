"""``lm.parallel``: several generations decoded together in one context, each as if it were alone."""

from __future__ import annotations

import pytest

from helpers import PROMPTS, nava_prefix
from nava_instruct.lm import llamacpp
from nava_instruct.lm.grammar import nava_grammar
from nava_instruct.lm.parallel import Generated, ParallelDecoder, Sampling

LONG = "### Instruction:\n" + "Plan a path around the disc and the square. " * 12 + "\n\n### Response:\n"


@pytest.fixture(scope="module")
def llama(tiny_smol_stages):
    # a small batch, so that long prompts are decoded in pieces, beside other sequences
    return llamacpp.load(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", n_ctx=512, n_batch=32)


@pytest.fixture(scope="module")
def decoder(llama):
    decoder = ParallelDecoder(llama, slots=3, n_ctx=256)
    yield decoder
    decoder.close()


def alone(llama, prompt: str, max_tokens: int, **options) -> str:
    """The answer of llama-cpp-python's own single-sequence path."""
    ids = llamacpp.prompt_tokens(llama, prompt)
    return llama.create_completion(ids, max_tokens=max_tokens, temperature=0.0, **options)["choices"][0]["text"]


def test_greedy_answers_together_are_the_answers_alone(llama, decoder):
    prompts = [*PROMPTS, LONG, PROMPTS[0]]  # more than the slots: the last ones wait for a free slot
    assert len(llamacpp.prompt_tokens(llama, LONG)) > 3 * llama.context_params.n_batch
    jobs = [decoder.submit(llamacpp.prompt_tokens(llama, prompt), Sampling(max_tokens=20)) for prompt in prompts]
    results = [job.wait() for job in jobs]
    assert [result.text for result in results] == [alone(llama, prompt, 20) for prompt in prompts]
    assert {(result.finish_reason, result.completion_tokens) for result in results} == {("length", 20)}
    assert results[3].prompt_tokens == len(llamacpp.prompt_tokens(llama, LONG))


def test_pieces_make_the_text_and_a_stop_string_cuts_it(llama, decoder):
    ids = llamacpp.prompt_tokens(llama, PROMPTS[0])
    whole = decoder.generate(ids, Sampling(max_tokens=30)).text
    stop = whole[20:23]
    job = decoder.submit(ids, Sampling(max_tokens=30, stop=("@@", stop)))
    pieces = list(job.pieces())
    assert len(pieces) > 1 and "".join(pieces) == job.result.text == whole[: whole.index(stop)]
    assert job.result.finish_reason == "stop"


def test_a_seed_fixes_a_sampled_answer(llama, decoder):
    ids = llamacpp.prompt_tokens(llama, PROMPTS[1])

    def sampled(seed: int) -> str:
        return decoder.generate(ids, Sampling(max_tokens=16, temperature=1.0, seed=seed)).text

    assert sampled(1) == sampled(1) and len({sampled(seed) for seed in range(4)}) > 1


def test_a_grammar_constrains_one_sequence_only(llama, decoder):
    ids = llamacpp.prompt_tokens(llama, PROMPTS[0])
    jobs = [
        decoder.submit(ids, Sampling(max_tokens=24, grammar=nava_grammar())),
        decoder.submit(ids, Sampling(max_tokens=24)),
    ]
    constrained, free = (job.wait().text for job in jobs)
    assert nava_prefix(constrained) and free == alone(llama, PROMPTS[0], 24) and not nava_prefix(free)


def test_a_cancelled_job_frees_its_slot(llama):
    decoder = ParallelDecoder(llama, slots=1, n_ctx=256)
    try:
        ids = llamacpp.prompt_tokens(llama, PROMPTS[0])
        first = decoder.submit(ids, Sampling(max_tokens=200))
        next(first.pieces())
        first.cancel()
        assert decoder.generate(ids, Sampling(max_tokens=8)).text == alone(llama, PROMPTS[0], 8)
    finally:
        decoder.close()


def test_a_prompt_that_leaves_no_room_is_refused(llama, decoder):
    with pytest.raises(ValueError, match="exceed 256"):
        decoder.submit(llamacpp.prompt_tokens(llama, LONG), Sampling(max_tokens=200))


def test_generate_in_room_cuts_max_tokens_to_the_room_left(llama, decoder):
    ids = llamacpp.prompt_tokens(llama, LONG)
    cut = decoder.generate_in_room(ids, Sampling(max_tokens=200))
    assert cut.finish_reason == "length" and cut.completion_tokens == 256 - len(ids)
    too_long = ids * 3
    assert decoder.generate_in_room(too_long, Sampling(max_tokens=8)) == Generated("", "length", len(too_long), 0)
