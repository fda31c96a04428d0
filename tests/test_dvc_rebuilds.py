"""`dvc repro` reruns only what a change touches: real `dvc status` on a scratch copy of this checkout.

The copy holds the tracked and untracked (not ignored) files of the working tree. Every stage's
outputs are replaced by placeholders and `dvc commit` records them, so the copy starts with a lock
that matches its code; then each file below is edited in turn and `dvc status` says which stages
would rerun. tests/test_dvc_deps.py checks the same rule statically; this is what a user sees.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

# An edited file -> the stages whose code it is. Code run by no stage reruns none.
EDITS = {
    "src/nava_instruct/serving/serve.py": set(),
    "src/nava_instruct/release/signing.py": set(),
    "src/nava_instruct/release/verify.py": set(),
    "src/nava_instruct/release/audit.py": set(),
    "src/nava_instruct/stages/evaluate.py": {"evaluate"},
    "src/nava_instruct/evaluation/plots.py": {"evaluate"},
    "src/nava_instruct/nava/scoring.py": {"evaluate"},
    "src/nava_instruct/lm/checked.py": {"evaluate"},
    # The control: the NAVA checker is run by every stage that writes or checks programs.
    "src/nava_instruct/nava/checker.py": {"generate", "split", "evaluate"},
}


def dvc(scratch: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=scratch, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def checkout_copy(scratch: Path) -> None:
    """The working tree's files that git would clone or add, with the copy made a git repository of its own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    subprocess.run(["git", "init", "-q"], cwd=scratch, check=True)


def placeholder_outputs(scratch: Path) -> None:
    """A small file, or a folder holding one, in place of every output dvc.yaml declares: `dvc commit` needs them all.
    An output is a folder if the lock says so or, for one the lock does not record yet, if its name has no suffix."""
    from dvc.repo import Repo

    lock = yaml.safe_load((scratch / "dvc.lock").read_text())["stages"]
    folders = {out["path"] for stage in lock.values() for out in stage.get("outs", []) if out["md5"].endswith(".dir")}
    with Repo(str(scratch)) as repo:
        declared = {out.def_path for out in repo.index.outs}
    for name in declared:
        path = scratch / name
        if path.exists():
            continue
        if name in folders or not Path(name).suffix:
            path.mkdir(parents=True)
            (path / "placeholder").write_text("placeholder\n")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("placeholder\n")


def stages_with_modified_code(scratch: Path) -> set[str]:
    status = json.loads(dvc(scratch, "status", "--json") or "{}")
    return {
        stage
        for stage, changes in status.items()
        for change in changes
        if isinstance(change, dict)
        for path, how in change.get("changed deps", {}).items()
        if how == "modified"
    }


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    scratch = tmp_path_factory.mktemp("scratch-clone")
    checkout_copy(scratch)
    placeholder_outputs(scratch)
    dvc(scratch, "commit", "--force", "--quiet")
    assert stages_with_modified_code(scratch) == set(), "the freshly committed copy should be up to date"
    return scratch


@pytest.mark.parametrize("edited", EDITS)
def test_an_edit_reruns_only_the_stages_that_run_the_edited_code(scratch, edited):
    path = scratch / edited
    original = path.read_bytes()
    path.write_bytes(original + b"\n# an edit\n")
    try:
        rerun = stages_with_modified_code(scratch)
    finally:
        path.write_bytes(original)
    assert rerun == EDITS[edited], f"an edit of {edited} reruns {sorted(rerun)}"
