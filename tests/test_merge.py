"""Stage ``merge`` on the tiny SmolLM2-tokenizer model with a random adapter."""

import json

import pytest
import torch
import yaml
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from helpers import random_adapter, stage_params, tiny_examples
from nava_instruct.cli import main
from nava_instruct.fileio import sha256_file
from nava_instruct.lm.prompting import prompt_ids, render
from nava_instruct.stages import merge


def greedy(model, tokenizer, prompt: str) -> list[int]:
    ids = torch.tensor([prompt_ids(tokenizer, prompt)])
    return model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        do_sample=False,
        max_new_tokens=12,
        pad_token_id=tokenizer.eos_token_id,
    )[0, ids.shape[1] :].tolist()


def test_merged_model_is_base_plus_adapter_in_float32(tiny_smol_stages):
    stages = tiny_smol_stages
    merged = AutoModelForCausalLM.from_pretrained(stages / "merged")
    assert (
        merged.dtype == torch.float32
        and json.loads((stages / "merged" / "config.json").read_text())["dtype"] == "float32"
    )
    assert not any("lora" in name for name, _ in merged.named_parameters())

    base = AutoModelForCausalLM.from_pretrained(stages / "base")
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(stages / "base"), stages / "adapter")
    ids = torch.tensor([list(range(3, 40))])
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, unmerged(ids).logits, atol=1e-5, rtol=1e-5)
        assert (merged(ids).logits - base(ids).logits).abs().max() > 1e-2

    tokenizer = AutoTokenizer.from_pretrained(stages / "merged")
    prompt = render(tiny_examples(1)[0], tokenizer)[0]
    assert greedy(merged, tokenizer, prompt) != greedy(base, tokenizer, prompt)


def test_chat_template_renders_the_training_prompt(tiny_smol_stages):
    tokenizer = AutoTokenizer.from_pretrained(tiny_smol_stages / "merged")
    for example in tiny_examples(3):  # the first has an input, the others none
        messages = [{"role": "user", "content": example["instruction"], "input": example["input"]}]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        assert text == render(example, tokenizer)[0]
    assert "### Input:" in render(tiny_examples(1)[0], tokenizer)[0]


def test_merge_info_records_sources_and_is_reproducible(tiny_smol_stages, tmp_path):
    stages = tiny_smol_stages
    info = json.loads((stages / "merged" / "merge_info.json").read_text())
    assert info["method"] == "lora" and info["merged_onto"] == "float32 base weights"
    assert info["base"]["manifest_sha256"] == sha256_file(stages / "base" / "manifest.json")
    assert info["adapter"]["files"]["adapter_model.safetensors"] == sha256_file(
        stages / "adapter" / "adapter_model.safetensors"
    )
    assert info["files"]["model.safetensors"] == sha256_file(stages / "merged" / "model.safetensors")

    merge.run(
        stage_params(
            merge, base_dir=str(stages / "base"), adapter_dir=str(stages / "adapter"), out_dir=str(tmp_path / "again")
        )
    )
    for name in ("model.safetensors", "tokenizer.json", "chat_template.jinja", "config.json"):
        assert sha256_file(tmp_path / "again" / name) == sha256_file(stages / "merged" / name), name


def test_qlora_adapter_is_merged_onto_full_precision(tiny_smol_stages, tmp_path):
    adapter = random_adapter(tiny_smol_stages / "base", tmp_path / "adapter", method="qlora")
    info = merge.run(
        stage_params(
            merge, base_dir=str(tiny_smol_stages / "base"), adapter_dir=str(adapter), out_dir=str(tmp_path / "merged")
        )
    )
    assert (
        info["method"] == "qlora"
        and "nf4" in info["adapter_trained_against"]
        and info["merged_onto"] == "float32 base weights"
    )
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "merged").dtype == torch.float32


def test_a_chat_template_trained_adapter_keeps_the_base_template(tiny_smol_stages, tmp_path):
    adapter = random_adapter(tiny_smol_stages / "base", tmp_path / "adapter")
    info = json.loads((adapter / "training_info.json").read_text()) | {"prompt_format": "chat_template"}
    (adapter / "training_info.json").write_text(json.dumps(info))
    merge.run(
        stage_params(
            merge, base_dir=str(tiny_smol_stages / "base"), adapter_dir=str(adapter), out_dir=str(tmp_path / "merged")
        )
    )
    template = AutoTokenizer.from_pretrained(tmp_path / "merged").chat_template
    assert (
        template == AutoTokenizer.from_pretrained(tiny_smol_stages / "base").chat_template
        and "<|im_start|>" in template
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        ("other_base", "the adapter was trained on another base"),
        ("no_adapter", "adapter not found: run `nava-instruct train`"),
    ],
)
def test_bad_inputs_fail_in_one_line(tiny_smol_stages, tmp_path, capsys, damage, message):
    adapter = tmp_path / "adapter"
    if damage == "other_base":
        random_adapter(tiny_smol_stages / "base", adapter)
        info = json.loads((adapter / "training_info.json").read_text())
        info["base"]["manifest_sha256"] = "0" * 64
        (adapter / "training_info.json").write_text(json.dumps(info))
    section = {
        "base_dir": str(tiny_smol_stages / "base"),
        "adapter_dir": str(adapter),
        "out_dir": str(tmp_path / "merged"),
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"merge": section}))
    capsys.readouterr()
    assert main(["merge", "--params", str(tmp_path / "params.yaml")]) == 1
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "merged").exists()
