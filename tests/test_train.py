"""Stage ``train`` on a tiny Llama: determinism, exact resume after SIGKILL, two processes, bad input."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
import yaml
from safetensors.torch import load_file

from helpers import REPO, stage_params, write_train_params
from nava_instruct import numerics
from nava_instruct.cli import main
from nava_instruct.errors import RunError
from nava_instruct.fileio import sha256_file
from nava_instruct.layout import LIVE_SUMMARY
from nava_instruct.params import key_line, load_section
from nava_instruct.stages import train
from nava_instruct.trail import CHECKPOINT_STATE, CHECKPOINT_WEIGHTS, MANIFEST, file_hashes

BIN = Path(sys.executable).parent
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json", "training_info.json")


def train_cli(params: Path) -> None:
    """The stage as a user runs it, in the params file's folder (the CLI writes provenance/ there)."""
    done = subprocess.run(
        [str(BIN / "nava-instruct"), "train", "--params", str(params)],
        cwd=params.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def hashes(folder: Path) -> dict[str, str]:
    return {name: sha256_file(folder / "adapter" / name) for name in ADAPTER_FILES}


def metrics(folder: Path) -> dict:
    """The stage's metrics, as DVCLive wrote them."""
    return json.loads((folder / "metrics" / LIVE_SUMMARY).read_text())


def curve(folder: Path, name: str) -> list[str]:
    """The lines of a loss curve DVCLive wrote: a header, then ``step<TAB>loss``."""
    return (folder / "metrics" / "plots" / "metrics" / f"{name}.tsv").read_text().splitlines()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_base, tiny_data) -> Path:
    """One uninterrupted run, the yardstick for determinism and resume."""
    folder = tmp_path_factory.mktemp("reference")
    train_cli(write_train_params(folder, tiny_base, tiny_data))
    return folder


def test_run_writes_adapter_metrics_and_plots(reference):
    summary = metrics(reference)
    assert summary["steps"] == 40 and summary["resumed_from_step"] == 0 and summary["train_examples"] == 48
    assert summary["eval_loss_after"] < summary["eval_loss_before"]
    assert summary["train_tokens_per_s"] > 0 and summary["peak_rss_mb"] > 0
    # DVCLive's own keys: the last point of each curve, at the last step.
    assert summary["eval_loss"] == summary["eval_loss_after"] and summary["step"] == 40
    config = json.loads((reference / "adapter" / "adapter_config.json").read_text())
    default = stage_params(train).target_modules
    assert config["target_modules"] == sorted(default) != default  # PEFT would write its set in hash order
    info = json.loads((reference / "adapter" / "training_info.json").read_text())
    assert info["determinism"]["use_deterministic_algorithms"] and info["processes"] == 1
    train_rows = curve(reference, "train_loss")
    assert train_rows[0] == "step\ttrain_loss" and [int(row.split("\t")[0]) for row in train_rows[1:]] == list(
        range(1, 41)
    )
    assert [int(row.split("\t")[0]) for row in curve(reference, "eval_loss")[1:]] == [0, 10, 20, 30, 40]
    assert (reference / "plots" / "train_loss.png").read_bytes()[:4] == b"\x89PNG"


def test_the_trail_keeps_every_checkpoint_and_ends_at_the_adapter(reference):
    trail = reference / "trail"
    manifest = json.loads((trail / MANIFEST).read_text())
    assert [entry["step"] for entry in manifest["checkpoints"]] == list(range(0, 41, 5))
    assert manifest["checkpoint_every"] == 5
    for entry in manifest["checkpoints"]:
        folder = train.checkpoint_path(trail, entry["step"])
        assert entry["files"] == {path.name: sha256_file(path) for path in folder.iterdir()}
        assert {CHECKPOINT_WEIGHTS, CHECKPOINT_STATE, "optimizer.bin"} <= set(entry["files"])
    last = load_file(train.checkpoint_path(trail, 40) / CHECKPOINT_WEIGHTS)
    adapter = load_file(reference / "adapter" / "adapter_model.safetensors")
    assert last.keys() == adapter.keys() and all(torch.equal(last[key], adapter[key]) for key in last)


def test_a_stretch_of_the_trail_replays_to_the_same_bytes(reference, tmp_path, tiny_base, tiny_data):
    params = write_train_params(tmp_path, tiny_base, tiny_data)
    shutil.copytree(train.checkpoint_path(reference / "trail", 15), train.checkpoint_path(tmp_path / "trail", 15))
    done = subprocess.run(
        [str(BIN / "nava-instruct"), "train", "--params", str(params), "--until", "20"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((reference / "trail" / MANIFEST).read_text())
    expected = next(entry["files"] for entry in manifest["checkpoints"] if entry["step"] == 20)
    assert file_hashes(train.checkpoint_path(tmp_path / "trail", 20)) == expected
    assert [path.name for path in train.checkpoints(tmp_path / "trail")] == ["step-00000015", "step-00000020"]
    assert not (tmp_path / "adapter").exists() and not (tmp_path / "provenance").exists()


def test_a_replay_starts_at_a_checkpoint_of_the_run_and_ends_at_a_later_one(
    reference, tmp_path, tiny_base, tiny_data, capsys
):
    params = write_train_params(tmp_path, tiny_base, tiny_data)
    assert main(["train", "--params", str(params), "--until", "20"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'trail'}: no checkpoint of this run (these params, data and base) to replay from"
    )
    shutil.copytree(train.checkpoint_path(reference / "trail", 15), train.checkpoint_path(tmp_path / "trail", 15))
    assert main(["train", "--params", str(params), "--until", "17"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'trail'}: cannot replay to step 17: the trail resumes at step 15 of 40"
        " and keeps a checkpoint every 5 steps"
    )


def test_dvc_yaml_declares_the_metrics_and_plots_the_stage_writes(reference):
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["train"]
    folders = {"${paths.train_metrics}": "metrics", "${paths.plots}": "plots"}
    declared = set()
    for entry in stage["metrics"] + stage["plots"]:
        path = next(iter(entry))
        for key, folder in folders.items():
            path = path.replace(key, folder)
        declared.add(path)
    written = {
        path.relative_to(reference).as_posix()
        for folder in folders.values()
        for path in (reference / folder).rglob("*")
        if path.is_file()
    }
    assert declared == written


def test_same_inputs_give_a_byte_identical_adapter(reference, tmp_path, tiny_base, tiny_data):
    train_cli(write_train_params(tmp_path, tiny_base, tiny_data))
    assert hashes(tmp_path) == hashes(reference)
    other_seed = tmp_path / "seed"
    train_cli(write_train_params(other_seed, tiny_base, tiny_data, seed=7))
    assert hashes(other_seed)["adapter_model.safetensors"] != hashes(reference)["adapter_model.safetensors"]


def wait_for_checkpoint(process: subprocess.Popen, folder: Path) -> None:
    """Until the run has saved a checkpoint after step 0."""
    deadline = time.monotonic() + 120
    while len(train.checkpoints(folder / "trail")) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "run ended before its first checkpoint"
        time.sleep(0.01)


def test_killed_run_resumes_to_the_identical_adapter(reference, tmp_path, tiny_base, tiny_data):
    params = write_train_params(tmp_path, tiny_base, tiny_data)
    process = subprocess.Popen(
        [str(BIN / "nava-instruct"), "train", "--params", str(params)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_checkpoint(process, tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (tmp_path / "adapter").exists()
    train_cli(params)
    assert 0 < metrics(tmp_path)["resumed_from_step"] < 40
    assert hashes(tmp_path) == hashes(reference)
    for name in ("train_loss", "eval_loss"):  # the resumed run replays its checkpoint's points into DVCLive
        assert curve(tmp_path, name) == curve(reference, name)


def test_checkpoint_from_other_params_is_discarded(tmp_path, tiny_base, tiny_data):
    stale = train.checkpoint_path(tmp_path / "trail", 5)
    stale.mkdir(parents=True)
    (stale / "state.json").write_text(json.dumps({"fingerprint": "other", "step": 5}))
    train_cli(write_train_params(tmp_path, tiny_base, tiny_data, max_steps=4, checkpoint_every=0))
    assert metrics(tmp_path)["resumed_from_step"] == 0 and not stale.exists()


def launch_two_processes(folder: Path, tiny_base, tiny_data) -> subprocess.Popen:
    """The stage under ``accelerate launch`` with 2 CPU processes (DDP over gloo), in its own session.

    ``--multi_gpu`` makes accelerate start the processes through torchrun; without CUDA they join
    over gloo on the CPU. (``--cpu --num_processes 2`` would start one process unless MPI is installed.)
    """
    params = write_train_params(
        folder,
        tiny_base,
        tiny_data,
        max_steps=24,
        grad_accum=2,
        eval_every=8,
        checkpoint_every=4,
        prompt_format="chat_template",
    )
    launch = [
        str(BIN / "accelerate"),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ]
    command = [*launch, "-m", "nava_instruct.cli", "train", "--params", str(params)]
    log = (folder / "launch.log").open("a")
    return subprocess.Popen(
        command, cwd=folder, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.mark.slow
def test_two_processes_train_and_resume_exactly(tmp_path, tiny_base, tiny_data):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for folder in (whole, killed):
        folder.mkdir()
    assert launch_two_processes(whole, tiny_base, tiny_data).wait() == 0, (whole / "launch.log").read_text()[-3000:]
    info = json.loads((whole / "adapter" / "training_info.json").read_text())
    assert info["processes"] == 2 and info["distributed"] == "ddp" and info["prompt_format"] == "chat_template"

    process = launch_two_processes(killed, tiny_base, tiny_data)
    wait_for_checkpoint(process, killed)
    launcher = psutil.Process(process.pid)
    for each in [launcher, *launcher.children(recursive=True)]:  # the launcher, torchrun and both workers
        each.kill()
    process.wait()
    assert not (killed / "adapter").exists()
    assert launch_two_processes(killed, tiny_base, tiny_data).wait() == 0, (killed / "launch.log").read_text()[-3000:]
    assert 0 < metrics(killed)["resumed_from_step"] < 24
    assert hashes(killed) == hashes(whole)


def run_cli(params: Path, capsys) -> str:
    """Run the stage in this process; it must fail with exit code 1 and end with one error line."""
    assert main(["train", "--params", str(params)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()  # model loading may draw a progress bar first
    assert lines[-1].startswith("error: ") and not any(line.startswith("error") for line in lines[:-1])
    return lines[-1]


@pytest.fixture
def clean_state():
    """In-process runs leave Accelerate's process state and torch's determinism flag behind."""
    yield
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    torch.use_deterministic_algorithms(False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusals")
@pytest.mark.parametrize(
    "overrides, key, expected",
    [
        ({"method": "qlora"}, ("train", "method"), "train.method: qlora needs a CUDA GPU"),
        (
            {"profile": "cuda-bf16"},
            ("numerics", "profile"),
            "numerics.profile: 'cuda-bf16' needs a CUDA GPU; this machine has none",
        ),
    ],
)
def test_what_this_cpu_cannot_run_is_refused(tmp_path, tiny_base, tiny_data, capsys, overrides, key, expected):
    params = write_train_params(tmp_path, tiny_base, tiny_data, **overrides)
    err = run_cli(params, capsys)
    assert err.startswith(f"error: {params}:{key_line(params, key)}: {expected}")


def test_bf16_without_hardware_support_is_refused(tmp_path, tiny_base, tiny_data, capsys, monkeypatch):
    """An AVX2-only CPU asked for cpu-bf16: one line naming the file, line, field, what is needed and what is here."""
    monkeypatch.setattr(numerics, "cpu", lambda: {"model": "AMD EPYC", "features": ["avx2", "fma", "f16c"]})
    params = write_train_params(tmp_path, tiny_base, tiny_data, profile="cpu-bf16")
    err = run_cli(params, capsys)
    where = f"{params}:{key_line(params, ('numerics', 'profile'))}"
    assert (
        err
        == f"error: {where}: numerics.profile: 'cpu-bf16' needs avx512_bf16; this CPU (AMD EPYC) has avx2, fma, f16c"
    )


def test_profile_pins_are_refused_once_torch_has_loaded(tmp_path, tiny_base, tiny_data, capsys, monkeypatch):
    """This test process loaded torch under the portable pins: another profile's kernels can no longer be chosen."""
    monkeypatch.setattr(numerics, "cpu", lambda: {"model": "Xeon", "features": ["avx2", "avx512_bf16", "fma"]})
    err = run_cli(write_train_params(tmp_path, tiny_base, tiny_data, profile="cpu-bf16"), capsys)
    assert err.startswith("error: numerics profile 'cpu-bf16' needs MKL_CBWR=(unset)") and err.endswith(
        "run the stage through `nava-instruct`"
    )


def test_missing_base_model(tmp_path, tiny_base, tiny_data, capsys):
    err = run_cli(write_train_params(tmp_path, tmp_path / "nowhere", tiny_data), capsys)
    assert (
        err
        == f"error: {tmp_path / 'nowhere'}: base model not found: run `nava-instruct base` (or `dvc repro base`) first"
    )


def test_empty_dataset(tmp_path, tiny_base, tiny_data, capsys, clean_state):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    err = run_cli(write_train_params(tmp_path, tiny_base, (empty, tiny_data[1])), capsys)
    assert err == f"error: {empty}: empty file: no records"


def test_no_example_fits(tmp_path, tiny_base, tiny_data, capsys, clean_state):
    err = run_cli(write_train_params(tmp_path, tiny_base, tiny_data, max_length=20), capsys)
    assert err == f"error: {tiny_data[0]}: no example fits max_length=20: every response is too long"


LEVERS = "lower batch_size (raise grad_accum to keep the effective batch) or max_length"
CPU_ALLOCATION_FAILED = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 2147483648 bytes. Error code 12 (Cannot allocate memory)"
)


@pytest.mark.parametrize(
    "patched, error, overrides, expected",
    [
        (
            "batch_loss",
            torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
            {},
            "train: out of GPU memory in the eval before step 1 (batch_size=4, max_length=128): "
            f"{LEVERS}, or set gradient_checkpointing: true",
        ),
        (
            "train_step",
            RuntimeError(CPU_ALLOCATION_FAILED),
            {"gradient_checkpointing": True},
            f"train: out of CPU memory at step 1 of 40 (batch_size=4, max_length=128): {LEVERS}",
        ),
    ],
)
def test_out_of_memory_is_a_run_error_saying_what_ran_out_when_and_what_to_lower(
    patched, error, overrides, expected, tmp_path, tiny_base, tiny_data, monkeypatch, clean_state, profile
):
    def exhausted(*args):
        raise error

    monkeypatch.setattr(train, patched, exhausted)
    params = load_section(train.Params, "train", write_train_params(tmp_path, tiny_base, tiny_data, **overrides))
    with pytest.raises(RunError) as raised:
        train.run(params, profile)
    assert str(raised.value) == expected


def test_other_runtime_errors_pass_through_unchanged():
    with pytest.raises(RuntimeError, match="^mat1 and mat2 shapes cannot be multiplied$"):
        with train.out_of_memory_as_run_error(stage_params(train), "at step 1 of 2"):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


def test_adapters_only_on_the_top_layers(tiny_base, profile):
    """adapted_layers=1 on the 2-layer model: LoRA weights in layer 1 only; more layers than the model has means all."""

    def adapted(layers):
        params = stage_params(train, base_dir=str(tiny_base), adapted_layers=layers)
        model = train.load_model(params, profile, trust_remote_code=False, device_index=0)
        return {name.split(".layers.")[1].split(".")[0] for name, p in model.named_parameters() if p.requires_grad}

    assert adapted(1) == {"1"}
    assert adapted(8) == adapted(None) == {"0", "1"}
