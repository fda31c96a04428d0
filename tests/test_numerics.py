"""Numerics profiles: the golden adapter of the portable profile, the pins, the one-line refusals.

``golden/adapter_sha256.json`` holds, per reproducibility class, the sha256 of the adapter that the
tiny model's training writes under that class. CI runs on whatever CPU it is given, so every
machine it lands on checks that the portable profile gives those very bytes there too.

``NAVA_CPU_EMULATOR`` runs that training under an emulator instead, to check a CPU this machine
is not: ``NAVA_CPU_EMULATOR='qemu-x86_64 -cpu Haswell' pytest tests/test_numerics.py`` trains on an
emulated Intel CPU with AVX2 and no AVX-512 (Debian's qemu-user; about 20 times slower).
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GOLDEN, write_train_params
from nava_instruct import numerics
from nava_instruct.errors import InputError
from nava_instruct.fileio import sha256_file


def train_tiny(folder: Path, tiny_base, tiny_data, profile: str, threads: int | None) -> Path:
    """The train stage through the CLI, started with none of the pins set: the program must set them itself."""
    params = write_train_params(folder, tiny_base, tiny_data, profile, max_steps=12, eval_every=0, checkpoint_every=0)
    env = {name: value for name, value in os.environ.items() if name not in numerics.PINNED}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    command = [
        *shlex.split(os.environ.get("NAVA_CPU_EMULATOR", "")),
        sys.executable,
        "-m",
        "nava_instruct.cli",
        "train",
        "--params",
        str(params),
    ]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "adapter"


@pytest.fixture(scope="module")
def portable_adapter(tmp_path_factory, tiny_base, tiny_data) -> Path:
    return train_tiny(tmp_path_factory.mktemp("portable"), tiny_base, tiny_data, "portable", threads=None)


def test_portable_adapter_matches_the_golden_hash_of_its_class(portable_adapter):
    info = json.loads((portable_adapter / "training_info.json").read_text())
    klass = info["numerics"]["class"]
    assert klass == "portable/x86-64-avx2"
    golden = json.loads(GOLDEN.read_text())
    cpu = numerics.cpu()
    this_cpu = f"{cpu['model']} ({', '.join(cpu['features'])})"
    found = sha256_file(portable_adapter / "adapter_model.safetensors")
    assert klass in golden, (
        f"{GOLDEN.name} has no entry for class {klass!r}: on this CPU, {this_cpu}, the adapter's sha256 is {found}; "
        "add it with the CPU it was measured on"
    )
    assert found == golden[klass]["sha256"], (
        f"the portable profile gave other adapter bytes ({found}) on {this_cpu} than on {golden[klass]['measured_on']}"
    )


def test_the_program_pins_the_kernels_itself_and_records_them(portable_adapter):
    recorded = json.loads((portable_adapter / "training_info.json").read_text())["numerics"]
    assert recorded["profile"] == "portable" and recorded["precision"] == "fp32"
    assert recorded["pins"] == numerics.PROFILES["portable"].pins
    assert recorded["aten_capability"] == "AVX2"  # even on a CPU with AVX-512


def test_the_portable_thread_count_is_pinned_whatever_the_environment_says(
    portable_adapter, tmp_path, tiny_base, tiny_data
):
    """MKL's compatible branch gives other bits on 1 thread than on 2, so the profile pins 2 and a user's
    OMP_NUM_THREADS cannot change them."""
    asked_for_one = train_tiny(tmp_path, tiny_base, tiny_data, "portable", threads=1)
    assert (
        json.loads((asked_for_one / "training_info.json").read_text())["numerics"]["threads"]
        == numerics.PROFILES["portable"].threads
        == 2
    )
    assert sha256_file(asked_for_one / "adapter_model.safetensors") == sha256_file(
        portable_adapter / "adapter_model.safetensors"
    )


def test_a_bf16_profile_is_its_own_class(tmp_path, tiny_base, tiny_data, portable_adapter):
    if numerics.missing(numerics.PROFILES["cpu-bf16"]):
        pytest.skip("this CPU has no avx512_bf16")
    adapter = train_tiny(tmp_path, tiny_base, tiny_data, "cpu-bf16", threads=None)
    recorded = json.loads((adapter / "training_info.json").read_text())["numerics"]
    assert recorded["class"] in ("cpu-bf16/amx_bf16", "cpu-bf16/avx512_bf16") and recorded["pins"] == dict.fromkeys(
        numerics.PINNED
    )
    assert sha256_file(adapter / "adapter_model.safetensors") != sha256_file(
        portable_adapter / "adapter_model.safetensors"
    )


def test_missing_section_means_the_default_profile(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train: {}\n")
    assert numerics.load(params).profile == numerics.DEFAULT == "portable"
    params.write_text("numerics:\n  profile: fastest\n")
    with pytest.raises(
        InputError,
        match=r"params.yaml:2: numerics.profile: Input should be 'portable', 'cpu-bf16' or 'cuda-bf16'",
    ):
        numerics.load(params)


def test_a_cpu_without_avx2_cannot_run_the_portable_profile(monkeypatch, tmp_path):
    monkeypatch.setattr(numerics, "cpu", lambda: {"model": "Old CPU", "features": ["f16c"]})
    params = tmp_path / "params.yaml"
    params.write_text("numerics:\n  profile: portable\n")
    with pytest.raises(InputError) as error:
        numerics.apply(numerics.load(params), params)
    assert str(error.value) == f"{params}:2: numerics.profile: 'portable' needs avx2, fma; this CPU (Old CPU) has f16c"
