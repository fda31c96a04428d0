"""The training trail's names: what stage train writes into ``paths.trail`` and the spot audit reads back.

Kept out of ``layout`` (which every stage depends on) so that a change here reruns only stage train.
"""

from __future__ import annotations

from pathlib import Path

from nava_instruct.fileio import sha256_file

MANIFEST = "manifest.json"  # in the trail: every checkpoint's step and the sha256 of its files
CHECKPOINT_PREFIX = "step-"  # a checkpoint's folder: the prefix, then the step in 8 digits
CHECKPOINT_WEIGHTS = "adapter_weights.safetensors"  # in a checkpoint: the adapter's tensors
CHECKPOINT_STATE = "state.json"  # in a checkpoint: the step, the loss history and the run's fingerprint
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # peft's name, in the adapter the last checkpoint must equal


def checkpoint_name(step: int) -> str:
    """The folder, inside the trail, of the checkpoint taken after ``step`` optimizer steps."""
    return f"{CHECKPOINT_PREFIX}{step:08d}"


def file_hashes(folder: str | Path) -> dict[str, str]:
    """The sha256 of each file directly inside ``folder``, by name."""
    return {path.name: sha256_file(path) for path in sorted(Path(folder).iterdir()) if path.is_file()}
