"""Where the artifacts live: params.yaml's ``paths`` section, and the names of the files inside them.

``params.yaml`` says once where each artifact is (its ``paths`` section); the stage sections refer
to those entries with YAML anchors and ``dvc.yaml`` interpolates them, so a path is written in one
place. ``Paths`` is that section, typed, for the commands that are not stages (serve, sign,
verify, audit and the CLI's provenance records). The constants below name files inside a stage's
output folder that another stage reads: the stage that writes one and the stages that read it
take the name from here, so stages never import each other.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nava_instruct.params import DEFAULT_PARAMS, StageParams, load_section

BASE_MANIFEST = "manifest.json"  # in the base folder: where the weights came from, with their sha256
TRAINING_INFO = "training_info.json"  # in the adapter folder: the settings and numerics it was trained under
MERGE_INFO = "merge_info.json"  # in the merged folder: the adapter and base it was merged from
GGUF_MANIFEST = "manifest.json"  # in the GGUF folder: every file with its sha256 and the quantizations
GENERATED_EXAMPLES = "examples.jsonl"  # in the generated folder: the records, before the split
BASE_GGUF = "base-f16.gguf"  # the unmodified base model, converted for evaluation
TRAIN_META = "train_meta.jsonl"  # in the split folder: metadata of each train record, line for line
EVAL_META = "eval_meta.jsonl"  # ... and of each eval record
LIVE_SUMMARY = "metrics.json"  # in a DVCLive folder (train's and evaluate's metrics): the stage's metrics

# The Python locks every environment installs from (Makefile, flake.nix, Dockerfile.cuda).
PYTHON_LOCKS = ("requirements.lock", "requirements-cuda.lock", "requirements-nodeps.lock")


def model_gguf(kind: str) -> str:
    """The fine-tuned model's GGUF file for ``kind``: ``f16`` or a quantization such as ``Q4_K_M``."""
    return f"model-{kind}.gguf"


class Paths(StageParams):
    """params.yaml's ``paths`` section: each artifact's file or folder, relative to the repository root."""

    generated: str
    extra: str
    train_file: str
    eval_file: str
    eval_requests: str  # held-out requests, one set per file
    split_meta: str
    split_report: str
    base: str
    trail: str  # every checkpoint of the training run (stage train)
    adapter: str
    merged: str
    gguf: str
    train_metrics: str  # DVCLive's folder for stage train
    parity_metrics: str
    eval_metrics: str  # DVCLive's folder for stage evaluate
    eval_samples: str
    plots: str
    provenance: str
    statement: str
    signatures: str
    public_key: str


class _Quantizations(BaseModel):
    """The one field of stage convert's section that the server needs; the stage validates the rest."""

    model_config = ConfigDict(extra="ignore")
    quantizations: list[str] = Field(min_length=1)


def paths(params_path: str | Path = DEFAULT_PARAMS) -> Paths:
    return load_section(Paths, "paths", params_path)


def served_model(params_path: str | Path = DEFAULT_PARAMS) -> Path:
    """The GGUF file ``nava-instruct serve`` serves by default: the first quantization stage convert writes."""
    served = load_section(_Quantizations, "convert", params_path).quantizations[0]
    return Path(paths(params_path).gguf) / model_gguf(served)
