"""Every script in benchmarks/ runs, through its own command line, on the tiny models and prints its table.

The benchmarks measure what the README and docs report; a refactor that breaks one fails here, not on the next
person who runs it. Each runs as a subprocess with the smallest options it has.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, field_program, graded_sample, write_params_file, write_train_params
from nava_instruct.evaluation.metrics import proportion
from nava_instruct.params import load_section
from nava_instruct.stages import base, generate, split, train

HANDWRITTEN = ("nava_instruct_train.handwritten.jsonl", "nava_instruct_eval.handwritten.jsonl")


def run_benchmark(script: str, *args) -> str:
    """``benchmarks/<script>`` run with ``args`` from the repository root; its stdout, once it exited 0."""
    command = [sys.executable, str(REPO / "benchmarks" / script), *map(str, args)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script} exited {done.returncode}\n{done.stdout}\n{done.stderr[-6000:]}"
    return done.stdout


def table(out: str) -> list[list[str]]:
    """The rows of the markdown tables in ``out``, header rows included, as lists of cells."""
    rows = [line.strip("|").split("|") for line in out.splitlines() if line.startswith("|") and "---" not in line]
    return [[cell.strip() for cell in cells] for cells in rows]


def table_rows(out: str) -> dict[str, list[str]]:
    """The rows of the markdown table in ``out`` by their first cell."""
    return {cells[0]: cells for cells in table(out)}


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory) -> Path:
    """A folder with the two hand-written prompt files, two prompt→code requests each (the repository's own)."""
    folder = tmp_path_factory.mktemp("handwritten")
    lines = (REPO / "data" / "eval_requests" / "handwritten.jsonl").read_text().splitlines(keepends=True)
    for index, name in enumerate(HANDWRITTEN):
        (folder / name).write_text("".join(lines[2 * index : 2 * index + 2]))
    return folder


def test_train_throughput_trains_as_the_params_file_says(tiny_base, tiny_data, tmp_path):
    params = write_train_params(tmp_path, tiny_base, tiny_data)  # batch_size 4, max_length 128; grad_accum 2
    sides = ("naive", "fp32-before", "portable")
    out = run_benchmark("train_throughput.py", "--params", params, "--steps", 1, "--sides", *sides, "--profile-ops")
    assert f"base {tiny_base}, data {tiny_data[0]}: 4 × 2 examples per step, max_length 128" in out
    rows = table_rows(out)
    assert rows["side"][:4] == ["side", "useful tokens/s", "vs fp32-before", "vs naive"]
    assert set(rows) == {"side", *sides}
    assert rows["fp32-before"][2] == "1.00x" and rows["naive"][3] == "1.00x"
    assert float(rows["portable"][1]) > 0
    assert rows["portable"][7].startswith("portable, ATen ") and rows["naive"][7].startswith("own kernels, ATen ")
    padding = {side: int(rows[side][4].rstrip("%")) for side in sides}
    assert padding["naive"] > padding["portable"]  # the guide pads every example to max_length
    for side in sides:
        assert f"{side}: the top 15 ops of one step by self CPU time" in out
    assert "Self CPU" in out and "aten::" in out


def test_parallel_slots(tiny_smol_stages, tiny_data):
    gguf, merged = tiny_smol_stages / "gguf" / "model-f16.gguf", tiny_smol_stages / "merged"
    out = run_benchmark(
        "parallel_slots.py", "--model", gguf, "--tokenizer", merged, "--eval-file", tiny_data[1],
        "--prompts", 2, "--max-tokens", 8, "--slots", 1, 2,
    )  # fmt: skip
    rows = table_rows(out)
    assert rows["slots"] == ["slots", "seconds", "tokens", "tokens/s"]
    assert set(rows) == {"slots", "1", "2"}
    assert 0 < int(rows["1"][2]) <= 2 * 8 and rows["2"][2] == rows["1"][2]  # greedy: the same answers either way


def test_grammar_decoding(tiny_smol_stages, handwritten):
    gguf, merged = tiny_smol_stages / "gguf" / "model-Q8_0.gguf", tiny_smol_stages / "merged"
    out = run_benchmark(
        "grammar_decoding.py", "--model", gguf, "--tokenizer", merged, "--data", handwritten,
        "--threads", 1, "--prompts", 2, "--max-tokens", 8,
    )  # fmt: skip
    lines = out.splitlines()
    assert lines[0].split() == ["mode", "tokens", "seconds", "tokens/s", "time/token", "vs", "none"]
    assert [line[:14].strip() for line in lines[1:4]] == ["no grammar", "stock grammar", "fast grammar"]
    assert "fast grammar text identical to stock grammar text on every prompt: True" in out


def test_learning_curve(tiny_smol_model, profile, tmp_path, monkeypatch):
    """A tiny run of the pipeline up to train, a checkpoint copied while it trains, then its curve."""
    run = tmp_path / "run"
    params = write_params_file(
        run / "params.yaml",
        generate={"size": 60},
        base={"source": "local", "path": str(tiny_smol_model)},
        train={"max_steps": 2, "checkpoint_every": 1, "batch_size": 2, "grad_accum": 1, "max_length": 256},
        evaluate={"prompts_per_family": {"prompt_to_code": 2}, "max_new_tokens": 8, "slots": 2, "context": 256},
    )
    monkeypatch.chdir(run)  # the params file's paths are relative, as in the repository
    for stage in (generate, split, base):
        stage.run(load_section(stage.Params, stage.__name__.rsplit(".", 1)[1], params))
    train_params = load_section(train.Params, "train", params)
    train.run(train_params, profile)
    checkpoint = train.checkpoint_path(run / train_params.trail_dir, 1)  # of the trail; the adapter is step 2
    held_out = tmp_path / "held_out"
    held_out.mkdir()
    for name in ("requests.jsonl", "handwritten.jsonl"):  # the first of each of the repository's held-out sets
        (held_out / name).write_text((REPO / "data" / "eval_requests" / name).read_text().splitlines()[0])

    curve = tmp_path / "curve.json"
    out = run_benchmark(
        "learning_curve.py", "--params", params, "--run-dir", run, "--held-out-dir", held_out,
        "--points", checkpoint.relative_to(run), "models/adapter", "--png", tmp_path / "curve.png", "--json", curve,
    )  # fmt: skip
    head, *rows = table(out)
    assert head[:4] == ["step", "epochs", "tokens", "set"] and "check greedy" in head
    assert [(row[0], row[3], row[-1]) for row in rows] == [
        (step, name, n)
        for step in ("1", "2")
        for name, n in (("generated", "2"), ("requests", "1"), ("handwritten", "1"))
    ]
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [point["step"] for point in json.loads(curve.read_text())["points"]] == [1, 2]


def test_checker_loop(tiny_smol_stages, handwritten):
    gguf, merged = tiny_smol_stages / "gguf" / "model-Q8_0.gguf", tiny_smol_stages / "merged"
    out = run_benchmark(
        "checker_loop.py", "--model", gguf, "--tokenizer", merged, "--data", handwritten, "--threads", 1,
        "--limit", 3, "--modes", "off", "repair", "--max-attempts", 2, "--max-tokens", 8,
    )  # fmt: skip
    lines = out.splitlines()
    assert lines[0].startswith("3 prompt→code prompts, up to 2 attempts")
    assert lines[1].split() == ["mode", "checks", "mean", "attempts", "mean", "seconds"]
    assert [line.split()[0] for line in lines[2:]] == ["greedy", "repair"]
    assert lines[2].split()[1:3] == ["0/3", "1.00"]  # one greedy answer each; a tiny random model writes no NAVA


def test_serve_load_on_the_tiny_model():
    out = run_benchmark("serve_load.py", "--tiny", "--clients", 2, "--seconds", 1, "--max-tokens", 8)
    lines = out.splitlines()
    assert lines[0].endswith("--parallel 4, max_tokens 8, 1 s per setting")
    assert lines[1].split()[:3] == ["loop", "clients", "requests"]
    assert [line.split()[:2] for line in lines[2:]] == [["off", "1"], ["off", "2"], ["on", "1"], ["on", "2"]]
    assert all(int(line.split()[2]) > 0 for line in lines[2:])


def test_failure_table(tmp_path):
    """Evaluate's samples of two backends, two sets and two families: the served backend's prompt→code ones
    are tabled by set."""
    reference = field_program(obstacles=("disc(center: [2.0, 0.5], radius: 0.5)",))  # 6 coordinates
    wrong_goal, cut = reference.replace("[4.0, 4.0]", "[4.0, 3.5]"), reference[:40]
    samples = [
        graded_sample(reference, reference),
        graded_sample(reference, wrong_goal),
        graded_sample(reference, cut, stopped=False),
        graded_sample(reference, wrong_goal, set="requests"),
        graded_sample(reference, cut, backend="f16"),
        graded_sample(reference, reference) | {"family": "code_to_explanation"},
    ]
    path = tmp_path / "eval_samples.jsonl"
    path.write_text("".join(json.dumps(sample) + "\n" for sample in samples))
    out = run_benchmark("failure_table.py", "--samples", path)  # the served backend: params.yaml's Q4_K_M
    assert out.splitlines()[0] == f"backend Q4_K_M, {path}"
    generated, requests = out.split("\n\nrequests: ")
    assert "generated: 3 prompt→code answers, 2 failing" in generated and requests.startswith(
        "1 prompt→code answers, 1 failing"
    )
    generated, requests = table_rows(generated), table_rows(requests)
    assert generated["category"] == ["category", "answers", "share"]
    assert generated["truncated"][1:] == ["1", "0.333"] and generated["other_number"][1:] == ["1", "0.333"]
    assert generated["syntax"][1:] == ["0", "0.000"] and requests["truncated"][1:] == ["0", "0.000"]

    def rate(right: int, values: int) -> str:
        figures = proportion("rate", right, values)
        return "{:.3f} [{:.3f}, {:.3f}]".format(figures["rate"], *figures["rate_ci"])

    assert generated["coordinates right"][1:] == ["11/12", rate(11, 12)]
    assert requests["coordinates right"][1:] == ["5/6", rate(5, 6)] and requests["non-zero angles right"][1:] == [
        "0/0",
        "-",
    ]
    f16 = table_rows(run_benchmark("failure_table.py", "--samples", path, "--backend", "f16"))
    assert f16["syntax"][1] == "1" and f16["coordinates right"][1:] == ["0/0", "-"]
