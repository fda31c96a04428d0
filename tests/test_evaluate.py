"""Stage evaluate on the tiny model: every backend answers, is graded, and lands in metrics and plots."""

import json
import math
from pathlib import Path

import pytest

from helpers import stage_params
from nava_instruct.errors import InputError
from nava_instruct.evaluation.metrics import wilson
from nava_instruct.fileio import write_json
from nava_instruct.layout import LIVE_SUMMARY
from nava_instruct.nava import scoring
from nava_instruct.stages import evaluate, generate, split

PER_FAMILY = {"prompt_to_code": 4, "code_to_explanation": 2, "fix": 1, "edit": 1, "follow_up": 1}
GENERATED = sum(PER_FAMILY.values())  # the generated prompts every full backend answers
HELD_OUT = Path(__file__).resolve().parents[1] / "data" / "eval_requests"


@pytest.fixture(scope="module")
def eval_split(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval-split")
    mix = {"prompt_to_code": 0.4, "code_to_explanation": 0.2, "fix": 0.1, "edit": 0.1, "follow_up": 0.2}
    generate.run(stage_params(generate, size=300, mix=mix, output_dir=str(root / "generated")))
    names = {"generated_dir": "generated", "extra_dir": "none", "train_out": "train.jsonl", "eval_out": "eval.jsonl"}
    names |= {"meta_dir": "meta", "report": "report.json"}
    split.run(stage_params(split, **{field: str(root / name) for field, name in names.items()}))
    write_json(root / "train_metrics" / LIVE_SUMMARY, {"eval_loss_before": 2.5, "eval_loss_after": 0.5})
    (root / "held_out").mkdir()
    for name in ("requests.jsonl", "handwritten.jsonl"):  # the first two of each held-out set
        lines = (HELD_OUT / name).read_text().splitlines(keepends=True)
        (root / "held_out" / name).write_text("".join(lines[:2]))
    return root


def params_for(root: Path, stages: Path, out: Path, **overrides) -> evaluate.Params:
    gguf, merged = stages / "gguf", str(stages / "merged")
    backends = [
        evaluate.Backend(
            name="base",
            kind="gguf",
            path=str(gguf / "base-f16.gguf"),
            tokenizer=str(stages / "base"),
            prompt_format="chat_template",
            limit=3,
        ),
        evaluate.Backend(name="f16", kind="gguf", path=str(gguf / "model-f16.gguf"), tokenizer=merged, held_out=True),
        evaluate.Backend(
            name="Q4_K_M+grammar", kind="gguf", path=str(gguf / "model-Q4_K_M.gguf"), tokenizer=merged, grammar=True
        ),
        evaluate.Backend(name="merged-hf", kind="hf", path=merged, tokenizer=merged, limit=2),
    ]
    values = dict(
        eval_file=str(root / "eval.jsonl"),
        meta_dir=str(root / "meta"),
        held_out_dir=str(root / "held_out"),
        train_metrics=str(root / "train_metrics"),
        samples_out=str(out / "samples.jsonl"),
        metrics_dir=str(out / "metrics"),
        plots_dir=str(out / "plots"),
        prompts_per_family=PER_FAMILY,
        max_new_tokens=24,
        context=1024,
        backends=backends,
    )
    return stage_params(evaluate, **{**values, **overrides})


def test_sample_is_seeded_stratified_and_interleaved(eval_split, tmp_path):
    params = params_for(eval_split, tmp_path, tmp_path)
    first, again = evaluate.sample_prompts(params), evaluate.sample_prompts(params)
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert {f: sum(e["family"] == f for e in first) for f in PER_FAMILY} == PER_FAMILY
    assert {e["family"] for e in first[:4]} >= {"prompt_to_code", "code_to_explanation", "fix", "edit"}
    other = evaluate.sample_prompts(params.model_copy(update={"seed": 7}))
    assert [e["id"] for e in other] != [e["id"] for e in first]


def test_every_backend_is_graded(eval_split, tiny_smol_stages, tmp_path):
    params = params_for(eval_split, tiny_smol_stages, tmp_path)
    outputs = evaluate.run(params)
    metrics = json.loads((Path(params.metrics_dir) / LIVE_SUMMARY).read_text())
    assert metrics == outputs["metrics"]
    assert set(metrics["backends"]) == {"base", "f16", "Q4_K_M+grammar", "merged-hf"}
    assert metrics["loss"]["fine_tuned"] == {"eval_loss": 0.5, "perplexity": round(math.exp(0.5), 3)}
    f16 = metrics["backends"]["f16"]
    assert f16["code"]["n"] == 4 and f16["explanation"]["n"] == 2 and f16["fix"]["n"] == 1 and f16["edit"]["n"] == 1
    rates = {"parse_rate", "check_rate", "spec_match", "first_check_rate", "first_spec_match"}
    rates |= {"checker_check_rate", "checker_spec_match"}
    assert set(f16["code"]) == {"n", "mean_attempts"} | rates | {f"{rate}_ci" for rate in rates}
    assert f16["code"]["first_check_rate"] <= f16["code"]["check_rate"]
    assert 1 <= f16["code"]["mean_attempts"] <= params.max_attempts
    low, high = f16["code"]["check_rate_ci"]
    assert low <= f16["code"]["check_rate"] <= high and high - low > 0.3  # n = 4 says little
    assert {name: rows["n"] for name, rows in f16["held_out"].items()} == {"requests": 2, "handwritten": 2}
    assert metrics["backends"]["base"]["held_out"] == {} and metrics["held_out_prompts"] == 4
    assert sum(v["n"] for v in f16["code_by_manifold"].values()) == 4
    assert f16["tokens_per_s"] > 0 and f16["completion_tokens"] > 0

    samples = [json.loads(line) for line in Path(params.samples_out).read_text().splitlines()]
    by_backend = {name: [s for s in samples if s["backend"] == name] for name in metrics["backends"]}
    assert len(by_backend["base"]) == 3 and len(by_backend["merged-hf"]) == 2
    assert len(by_backend["f16"]) == GENERATED + 4
    assert [s["set"] for s in by_backend["f16"][GENERATED:]] == ["handwritten"] * 2 + ["requests"] * 2
    assert all(s["family"] != "code_to_explanation" for s in by_backend["Q4_K_M+grammar"])
    assert by_backend["base"][0]["prompt"].startswith("<|im_start|>")  # the base is asked in its own chat format
    assert by_backend["f16"][0]["prompt"].endswith("### Response:\n")
    examples = {e["id"]: e for e in evaluate.sample_prompts(params) + evaluate.held_out_prompts(params.held_out_dir)}
    for sample in samples:
        example = examples[sample["id"]]
        assert sample["tokens"] <= 24 * sample.get("attempts", 1) and sample["reference"] == example["output"]
        # the verdict grades this sample's answer against its own example's spec, by the family's score
        score = scoring.score_explanation if sample["family"] == "code_to_explanation" else scoring.score_code
        assert sample["verdict"] == score(sample["answer"], example["spec"])
    # the code answers of GGUF backends went through the checker loop (params.yaml: repair, up to max_attempts)
    for sample in samples:
        if sample["family"] == "code_to_explanation":
            assert "attempts" not in sample
        elif sample["backend"] == "merged-hf":
            assert sample["attempts"] == 1 and sample["first_checked"] == sample["verdict"]["checked"]
        else:
            assert len(sample["tries"]) == sample["attempts"] and sample["tries"][0]["how"] == "greedy"
            assert {t["how"] for t in sample["tries"][1:]} <= {"repair", "sample"}  # sample when nothing to repair
            assert sample["first_checked"] == (sample["tries"][0]["error"] is None)
            gave_up = sample["attempts"] == params.max_attempts
            accepted = sample["tries"][-1]["error"] is None and sample["tries"][-1]["contradiction"] is None
            assert gave_up or accepted  # the loop stops at the first answer that checks and agrees
            assert sample["checker_checked"] == (any(t["error"] is None for t in sample["tries"]))
    # HF and GGUF f16 of one merged model answer the same prompts (HF the first two) with the same greedy text
    hf = {s["id"]: s["answer"] for s in by_backend["merged-hf"]}
    assert {s["id"]: s.get("first_answer", s["answer"]) for s in by_backend["f16"][:2]} == hf
    for png in outputs["plots"]:
        assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_inputs_are_one_line_errors(eval_split, tiny_smol_stages, tmp_path):
    missing_model = params_for(
        eval_split,
        tiny_smol_stages,
        tmp_path,
        backends=[
            evaluate.Backend(
                name="f16", kind="gguf", path=str(tmp_path / "absent.gguf"), tokenizer=str(tiny_smol_stages / "merged")
            )
        ],
    )
    with pytest.raises(InputError, match="absent.gguf: GGUF model not found"):
        evaluate.run(missing_model)
    with pytest.raises(InputError, match="train metrics not found"):
        evaluate.run(params_for(eval_split, tiny_smol_stages, tmp_path, train_metrics=str(tmp_path / "none")))
    assert not (tmp_path / "metrics" / LIVE_SUMMARY).exists()


def test_wilson_intervals():
    assert wilson(0, 10) == [0.0, 0.2775] and wilson(5, 10) == [0.2366, 0.7634]
    assert wilson(20, 20)[1] == 1.0 and wilson(20, 20)[0] > 0.83


def test_a_held_out_reference_with_errors_is_refused_by_file_line_and_field(tmp_path):
    good = (HELD_OUT / "requests.jsonl").read_text().splitlines()[0]
    bad = json.loads(good) | {"output": "let M = euclidan_plane()\n"}
    (tmp_path / "set.jsonl").write_text(good + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"set.jsonl:2: output: the reference program has errors"):
        evaluate.held_out_prompts(tmp_path)
