"""Stage ``parity`` on the tiny model: llama.cpp agrees with transformers, and a wrong model is caught."""

import json

import pytest
from transformers import AutoTokenizer

from helpers import stage_params, tiny_examples
from nava_instruct.errors import RunError
from nava_instruct.fileio import write_jsonl
from nava_instruct.lm import llamacpp
from nava_instruct.lm.prompting import prompt_ids
from nava_instruct.stages import parity

TRICKY = [
    "let goal = [10.0, -8.25, 3e-4]  // 1234567 tokens?\n",
    "  \n\n\t spaces   and\ttabs \r\n",
    "Ünïcödé: π/4, 42°, naïve café — “quotes” 🚀 😶‍🌫️ 我想在apple工作",
    "<|im_start|>user\nhi<|im_end|>\n### Response:\n",
    "It works as follows.\n\n1. The manifold\n 2. x33",  # digits stand apart (base.split_digits)
]


@pytest.fixture(scope="module")
def eval_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity-data") / "eval.jsonl"
    write_jsonl(path, tiny_examples(6, start=100))
    return path


def params(stages, eval_file, metrics, prompts: int = 4) -> parity.Params:
    """The random tiny model's next-token distribution is nearly flat (top-1 margins around 1e-3), so
    quantization flips many of its argmaxes: its quantized top-1 bound is looser than params.yaml's."""
    paths = {
        "merged_dir": str(stages / "merged"),
        "gguf_dir": str(stages / "gguf"),
        "eval_file": str(eval_file),
        "metrics_file": str(metrics),
    }
    return stage_params(parity, **paths, prompts=prompts, max_new_tokens=16, quantized_min_top1=0.6)


def test_tokenizers_agree_on_tricky_text(tiny_smol_stages):
    tokenizer = AutoTokenizer.from_pretrained(tiny_smol_stages / "merged")
    llama = llamacpp.load(tiny_smol_stages / "gguf" / "model-f16.gguf", n_ctx=16)
    for text in TRICKY:
        assert llamacpp.prompt_tokens(llama, text) == prompt_ids(tokenizer, text), repr(text)


def test_gguf_files_match_transformers_within_tolerance(tiny_smol_stages, eval_file, tmp_path):
    metrics = parity.run(params(tiny_smol_stages, eval_file, tmp_path / "parity.json"))
    assert json.loads((tmp_path / "parity.json").read_text()) == metrics
    assert metrics["passed"] and metrics["failures"] == []
    f16 = metrics["f16"]
    assert f16["prompts"] == 4 and f16["tokens_equal"] == 1 and f16["greedy_equal"] == 1
    assert f16["top1"] == 1 and f16["max_abs_logprob_diff"] < 1e-3 and f16["mean_kl"] < 1e-6
    for kind in ("Q8_0", "Q4_K_M"):
        assert metrics[kind]["tokens_equal"] == 1 and metrics[kind]["top1"] >= 0.6
    assert metrics["Q8_0"]["mean_kl"] < metrics["Q4_K_M"]["mean_kl"] < 0.1


def test_a_different_model_fails_parity(tiny_smol_stages, eval_file, tmp_path):
    """The GGUF files hold the merged model; measured against the unmerged base, parity must fail."""
    wrong = tmp_path / "stages"
    wrong.mkdir()
    (wrong / "merged").symlink_to(tiny_smol_stages / "base")
    (wrong / "gguf").symlink_to(tiny_smol_stages / "gguf")
    with pytest.raises(RunError, match="parity outside tolerance .*f16: greedy_equal is 0, expected >= 0.9"):
        parity.run(params(wrong, eval_file, tmp_path / "parity.json", prompts=2))
    assert not json.loads((tmp_path / "parity.json").read_text())["passed"]
