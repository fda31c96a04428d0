"""The DVC pipeline in a scratch copy of the repo: reruns only what changed."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

BIN = Path(sys.executable).parent


def dvc(workdir: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([str(BIN / "dvc"), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def workspace(tmp_path):
    for name in (
        "dvc.yaml",
        "params.yaml",
        ".dvcignore",
        "requirements.lock",
        "requirements-cuda.lock",
        "requirements-nodeps.lock",
    ):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "data" / "extra", tmp_path / "data" / "extra")
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    params["generate"]["size"] = 240
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc(tmp_path, "init", "-q")
    return tmp_path


def stale_stages(workdir: Path) -> set[str]:
    return set(json.loads(dvc(workdir, "status", "--json", "split")))


def test_repro_twice_then_only_split_reruns(workspace):
    dvc(workspace, "repro", "split")
    assert (workspace / "data" / "nava_instruct_train.jsonl").exists()
    assert json.loads((workspace / "data" / "split_report.json").read_text())["overlaps"]["total"] == 0
    assert stale_stages(workspace) == set()
    second = dvc(workspace, "repro", "split")
    assert "didn't change" in second and "Running stage" not in second

    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["split"]["eval_fraction"] = 0.25
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stale_stages(workspace) == {"split"}
    third = dvc(workspace, "repro", "split")
    assert "Running stage 'split'" in third and "Running stage 'generate'" not in third
