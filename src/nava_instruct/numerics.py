"""Numerics profiles: the precision and the kernels a stage computes with, and whose bits they give.

Float results depend on the kernels that compute them. MKL, ATen and oneDNN each pick a code path
for the CPU they find (AVX2, AVX-512, AVX512-BF16, AMX), and each path rounds differently, so the
same code and data give other weights on another CPU unless those choices are pinned. A profile
names them; ``params.yaml`` chooses one (section ``numerics``), and ``apply`` puts it in force for
the whole process before torch loads, so ``dvc repro``, ``audit`` and a direct CLI call all run
under it. What a profile produces is the same bit for bit on every machine of its
*reproducibility class*:

- ``portable`` (the default): float32 on kernels that choose their code by instruction set, not by
  CPU vendor: ATen's AVX2 kernels, oneDNN's AVX2 kernels for every linear layer
  (``onednn_linear``), MKL's compatible branch on 2 threads for the rest, and the fused
  AdamW. One class for every x86-64 CPU with AVX2 and FMA: the same adapter on a real AVX-512
  EPYC and on emulated Intel Haswell and AMD Rome CPUs (docs/numerics.md has the measurements).
- ``cpu-bf16``: bf16 autocast on the CPU's own kernels, much faster where the CPU has AVX512-BF16
  or AMX; its bits differ between those two, so each is its own class.
- ``cuda-bf16``: bf16 on a CUDA GPU (QLoRA computes in it); a class per GPU model.

A profile this machine cannot run is refused in one line, naming what it needs and what is here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from nava_instruct.errors import InputError, RunError
from nava_instruct.params import DEFAULT_PARAMS, StageParams, key_line, load_section

PINNED = ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")  # every variable a profile sets or clears
SECTION = "numerics"
# Instruction sets that change which matrix kernels torch and llama.cpp run, hence the low bits of results.
CPU_FEATURES = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile", "fma", "f16c")


def cpu() -> dict:
    """The CPU model and the instruction sets among CPU_FEATURES it has (Linux; None elsewhere)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"model": None, "features": None}
    fields = dict(line.split(":", 1) for line in info.splitlines()[:40] if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {"model": fields.get("model name"), "features": [name for name in CPU_FEATURES if name in flags]}


@dataclass(frozen=True)
class Profile:
    name: str
    device: Literal["cpu", "cuda"]
    precision: Literal["fp32", "bf16"]
    cpu_flags: tuple[str, ...] = ()  # what the CPU must have (/proc/cpuinfo names)
    pins: dict[str, str] = field(default_factory=dict)  # values of PINNED; a variable not named here is cleared
    threads: int | None = None  # torch's and MKL's threads, where the bits depend on them; None: torch's choice
    onednn_linears: bool = False  # linear layers on oneDNN (onednn_linear.py) instead of MKL


PROFILES = {
    profile.name: profile
    for profile in (
        Profile(
            "portable",
            "cpu",
            "fp32",
            ("avx2", "fma"),
            {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
            2,
            True,
        ),
        Profile("cpu-bf16", "cpu", "bf16", ("avx512_bf16",)),
        Profile("cuda-bf16", "cuda", "bf16"),
    )
}
DEFAULT = "portable"
ProfileName = Literal[tuple(PROFILES)]


class Params(StageParams):
    profile: ProfileName = DEFAULT


def load(params_path: str | Path = DEFAULT_PARAMS) -> Params:
    """The ``numerics`` section of the params file; the default profile where the file has none."""
    try:
        return load_section(Params, SECTION, params_path)
    except InputError as error:
        if error.detail == f"missing section '{SECTION}'":
            return Params()
        raise


def missing(profile: Profile) -> str | None:
    """Why this machine cannot run ``profile``, in words; None if it can."""
    if profile.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return f"'{profile.name}' needs a CUDA GPU; this machine has none"
        if profile.precision == "bf16" and not torch.cuda.is_bf16_supported():
            return f"'{profile.name}' needs a GPU with bf16; {torch.cuda.get_device_name()} has none"
        return None
    here = cpu()
    lacking = [flag for flag in profile.cpu_flags if flag not in (here["features"] or [])]
    if not lacking:
        return None
    has = ", ".join(here["features"] or []) or "none of them"
    return f"'{profile.name}' needs {', '.join(profile.cpu_flags)}; this CPU ({here['model']}) has {has}"


def reproducibility_class(profile: Profile) -> str:
    """The machines on which ``profile`` gives the same bits: one name for all of them."""
    if profile.name == "portable":
        return "portable/x86-64-avx2"
    if profile.device == "cuda":
        import torch

        return f"{profile.name}/{torch.cuda.get_device_name()}"
    return f"{profile.name}/{'amx_bf16' if 'amx_bf16' in (cpu()['features'] or []) else 'avx512_bf16'}"


def apply(params: Params, params_path: str | Path = DEFAULT_PARAMS) -> Profile:
    """Put the chosen profile in force for this process, or refuse in one line; return it.

    The caller hands the returned profile on to whatever computes under it (``stages.run_stage`` to the stage).
    """
    profile = PROFILES[params.profile]
    if problem := missing(profile):
        raise InputError(
            params_path, problem, line=key_line(params_path, (SECTION, "profile")), field=f"{SECTION}.profile"
        )
    wrong = [name for name in PINNED if os.environ.get(name) != profile.pins.get(name)]
    if wrong and "torch" in sys.modules:  # kernels are chosen once torch has loaded: too late to change them
        settings = ", ".join(f"{name}={profile.pins.get(name, '(unset)')}" for name in wrong)
        raise RunError(
            f"numerics profile '{profile.name}' needs {settings} before torch loads;"
            " run the stage through `nava-instruct`"
        )
    for name in PINNED:
        if name in profile.pins:
            os.environ[name] = profile.pins[name]
        else:
            os.environ.pop(name, None)
    if profile.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(profile.threads)  # read when torch loads
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(profile.threads)
    return profile


def record(profile: Profile) -> dict:
    """``profile`` (the one ``apply`` put in force), its class and the kernel settings used, for the records."""
    torch = sys.modules.get("torch")
    return {
        "profile": profile.name,
        "class": reproducibility_class(profile),
        "precision": profile.precision,
        "pins": {name: os.environ.get(name) for name in PINNED},
        "aten_capability": torch.backends.cpu.get_cpu_capability() if torch else None,
        "threads": torch.get_num_threads() if torch else None,
    }


def cannot_rebuild(built: dict) -> str | None:
    """Why this machine cannot rebuild bits made under ``built`` (a record's ``numerics``), in words; None if it can.

    A record without a class (made before profiles were recorded) is checked for its profile alone.
    """
    profile = PROFILES.get(built["profile"])
    if profile is None:
        return f"it was built under numerics profile '{built['profile']}', which this code does not know"
    needs = f"it was built under numerics profile '{profile.name}'" + (
        f" (class {built['class']})" if built.get("class") else ""
    )
    if problem := missing(profile):
        return f"{needs}: {problem}"
    here = reproducibility_class(profile)
    if built.get("class") and built["class"] != here:
        return f"{needs}; this machine's class for that profile is {here}, whose bits differ"
    return None
