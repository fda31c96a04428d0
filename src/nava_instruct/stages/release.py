"""Stage ``release``: an in-toto statement with an SLSA provenance predicate for the released model.

The statement (https://in-toto.io/Statement/v1, predicate https://slsa.dev/provenance/v1) says
which files were built and from what:

- subjects: every file of the adapter, the merged model and the GGUF folder, by sha256;
- resolved dependencies (SLSA's "materials"): the train and eval datasets, the base model's
  manifest, params.yaml, dvc.yaml, every Python lock, and the code commit;
- external parameters: the whole params.yaml; internal ones: the determinism settings and the
  numerics the adapter was trained under (profile, reproducibility class, kernel pins);
- byproducts: the per-stage environment records (``provenance/<stage>.json``) and the metrics.

No timestamps are written, so two runs on the same commit and environment give the same bytes.
``nava-instruct sign`` signs the artifacts and this statement; ``nava-instruct verify`` checks them.
"""

from __future__ import annotations

import json
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml
from pydantic import Field

from nava_instruct.errors import InputError
from nava_instruct.fileio import sha256_file, write_json
from nava_instruct.layout import BASE_MANIFEST, PYTHON_LOCKS, TRAINING_INFO
from nava_instruct.params import DEFAULT_PARAMS, StageParams
from nava_instruct.release import provenance

log = logging.getLogger(__name__)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:nava-instruct:build:dvc-repro:v1"  # what it means: docs/provenance.md
BUILDER_PACKAGES = ("nava-instruct", "torch", "transformers", "peft", "accelerate", "llama-cpp-python", "dvc")


class Params(StageParams):
    artifacts: list[str] = Field(min_length=1)
    base_dir: str
    adapter_dir: str
    train_file: str
    eval_file: str
    metrics: list[str]
    provenance_dir: str  # every stage's record of its environment (this stage's own excepted)
    statement_out: str
    params_file: str = DEFAULT_PARAMS
    pipeline_file: str = "dvc.yaml"

    def materials(self) -> list[str]:
        """The inputs the artifacts were built from: data, base model, pipeline and environment locks."""
        base_manifest = str(Path(self.base_dir) / BASE_MANIFEST)
        return [self.train_file, self.eval_file, base_manifest, self.params_file, self.pipeline_file, *PYTHON_LOCKS]

    def byproducts(self) -> list[str]:
        """The reports the run left: the stages' environment records, then the metrics."""
        records = sorted(Path(self.provenance_dir).glob("*.json"))
        return [str(path) for path in records if path.stem != "release"] + self.metrics


def files_under(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else every file below it (hidden ones skipped), sorted."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(path, "not found: run the stages that produce it first (dvc repro)")
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def descriptors(paths: list[str]) -> list[dict]:
    """SLSA resource descriptors (name + sha256) for every file of ``paths``."""
    return [
        {"name": file.as_posix(), "digest": {"sha256": sha256_file(file)}}
        for path in paths
        for file in files_under(Path(path))
    ]


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def statement(params: Params) -> dict:
    environment = provenance.environment()
    code = environment["code"]
    source = {"name": "source", "digest": {"gitCommit": code["commit"]}} if code["commit"] else None
    try:
        pipeline_params = yaml.safe_load(Path(params.params_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(params.params_file, "params file not found") from None
    training_info = Path(params.adapter_dir) / TRAINING_INFO
    try:
        trained_under = json.loads(training_info.read_text(encoding="utf-8"))["numerics"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        raise InputError(training_info, "no numerics record: run stage train first (dvc repro train)") from None
    return {
        "_type": STATEMENT_TYPE,
        "subject": descriptors(params.artifacts),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "pipeline": params.pipeline_file,
                    "params": pipeline_params,
                    "source": {"commit": code["commit"], "dirty": code["dirty"]},
                },
                "internalParameters": {
                    "determinism_env": environment["determinism_env"],
                    "cpu_count": environment["cpu_count"],
                    "numerics": trained_under,
                },
                "resolvedDependencies": descriptors(params.materials()) + ([source] if source else []),
            },
            "runDetails": {
                "builder": {
                    "id": provenance.builder_id(environment),
                    "version": {name: package_version(name) for name in BUILDER_PACKAGES}
                    | {"python": environment["python"]},
                },
                "byproducts": descriptors([p for p in params.byproducts() if Path(p).exists()]),
            },
        },
    }


def run(params: Params) -> dict:
    result = statement(params)
    write_json(params.statement_out, result)
    log.info(
        "%s: %d subjects, %d resolved dependencies",
        params.statement_out,
        len(result["subject"]),
        len(result["predicate"]["buildDefinition"]["resolvedDependencies"]),
    )
    return result
