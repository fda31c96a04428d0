"""The environment a stage ran in, recorded beside its outputs so an auditor can compare runs.

``environment()`` gathers what can change a stage's bytes: Python and every installed package,
torch with its CUDA/cuDNN build, the GPUs and their driver, CPU threads, the container image or
Nix store path when there is one, the determinism settings, the code commit and the lock hash.
It never imports torch itself: a stage that did not load torch has no GPU state to report.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from nava_instruct.fileio import sha256_file
from nava_instruct.layout import PYTHON_LOCKS
from nava_instruct.numerics import cpu

DETERMINISM_ENV = (
    "PYTHONHASHSEED",
    "CUBLAS_WORKSPACE_CONFIG",
    "HF_HUB_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "OMP_NUM_THREADS",
)


def _run(*command: str) -> str | None:
    if not shutil.which(command[0]):
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version() -> dict:
    commit = _run("git", "rev-parse", "HEAD")
    dirty = _run("git", "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(dirty) if dirty is not None else None}


def torch_state() -> dict:
    torch = sys.modules.get("torch")
    if torch is None:
        return {"loaded": False}
    cuda = torch.cuda.is_available()
    return {
        "loaded": True,
        "version": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "gpu_driver": _run("nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader") if cuda else None,
        "threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
    }


def container() -> dict:
    """The image this ran in (set by Dockerfile.cuda / the Nix image) and the Nix store path of Python."""
    executable = Path(sys.executable).resolve()
    return {
        "image": os.environ.get("NAVA_IMAGE"),
        "base_image": os.environ.get("NAVA_BASE_IMAGE"),
        "nix_store_path": str(Path(*executable.parts[:4])) if executable.parts[1:3] == ("nix", "store") else None,
    }


def builder_id(environment: dict) -> str:
    """Who built it, as SLSA wants it: the container image or Nix store path, else this host's platform."""
    place = environment["container"]
    where = place["image"] or place["nix_store_path"] or f"{environment['platform']}/{environment['machine']}"
    return f"urn:nava-instruct:builder:{where}"


def environment() -> dict:
    packages = {dist.metadata["Name"].lower(): dist.version for dist in importlib.metadata.distributions()}
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu(),
        "packages": dict(sorted(packages.items())),
        "torch": torch_state(),
        "container": container(),
        "determinism_env": {name: os.environ.get(name) for name in DETERMINISM_ENV},
        "code": code_version(),
        "locks": {name: sha256_file(name) for name in PYTHON_LOCKS if Path(name).is_file()},
    }
