"""A commit rebuilt in a clean clone, the machinery both audits share (``audit`` and ``audit --spot``).

``locked_stages`` reads the commit's ``dvc.lock``; ``checkout`` clones the commit into a temporary
folder, checks that its lock describes its own inputs and that this machine has the numerics class
it was built in (each refused in one line, before any work); ``reproduce`` runs ``dvc repro --force
--no-run-cache`` there, with this environment's tools or with every stage's command in the commit's
container image; ``check_outputs`` rehashes what the lock records, NOT REBUILT where a stage did not
finish.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nava_instruct import layout, numerics
from nava_instruct.errors import InputError, RunError
from nava_instruct.params import DEFAULT_PARAMS
from nava_instruct.release import verify

# What `make repro` sets for every stage (Makefile), so the rebuild runs under the same settings.
REPRO_ENV = {
    "PYTHONHASHSEED": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MPLBACKEND": "Agg",
}


NOT_REBUILT = "NOT REBUILT"


IMAGE_BIN = "image/bin"  # a commit's launcher of `nava-instruct` in its container image


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise RunError(f"git {' '.join(args)} failed in {cwd}: {last}")
    return done.stdout


def resolve_commit(repo: Path, rev: str) -> str:
    if not (repo / ".git").exists():
        raise InputError(repo, "not a git repository")
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=repo, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise InputError(repo, f"unknown revision '{rev}'")
    return done.stdout.strip()


def uncached_outputs(clone: Path) -> set[str]:
    """Outputs, metrics and plots that the clone's dvc.yaml declares with ``cache: false``, read by DVC itself,
    so that ``${paths.…}`` and every other interpolation resolve as they do for ``dvc repro``."""
    from dvc.repo import Repo

    with Repo(str(clone)) as repo:
        return {out.def_path for out in repo.index.outs if not out.use_cache}


def clear_outputs(stages: dict, clone: Path) -> None:
    """Remove the lock and every output it records, so that what is there after the rebuild was made by it."""
    for path in [verify.LOCK, *verify.recorded(stages, "outs")]:
        target = clone / path
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def rebuilt_stages(clone: Path) -> set[str]:
    """The stages the rebuild finished: those DVC wrote to the clone's (cleared) dvc.lock."""
    lock = clone / verify.LOCK
    return set(verify.read_lock(lock)) if lock.is_file() else set()


def check_outputs(stages: dict, clone: Path) -> list[dict]:
    """Each recorded output, rehashed: its kind (artifact or report), and NOT REBUILT where its stage did not finish."""
    uncached = uncached_outputs(clone)
    rebuilt = rebuilt_stages(clone)
    rows = []
    for row in verify.check_outputs(stages, clone):
        if row["stage"] not in rebuilt:
            row = {**row, "status": NOT_REBUILT, "actual": None, "detail": f"stage {row['stage']} did not finish"}
        rows.append({**row, "kind": "report" if row["path"] in uncached else "artifact"})
    return rows


def stage_env(clone: Path, in_image: bool) -> dict[str, str]:
    """The environment stage commands run in: this interpreter's tools and the clone's code first, or, ``in_image``,
    the commit's own ``image/bin`` first on PATH, which runs each ``nava-instruct`` in the container image."""
    bin_dir = Path(sys.executable).parent
    path = [*([str(clone / IMAGE_BIN)] if in_image else []), str(bin_dir), os.environ.get("PATH", "")]
    return {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "PYTHONPATH": f"{clone / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep),
        "DVC_NO_ANALYTICS": "1",
        **REPRO_ENV,
    }


def timed(command: list[str], clone: Path, in_image: bool, log_file: Path) -> tuple[int, float]:
    """``command`` run in ``clone`` under ``stage_env``, its output appended to ``log_file``; (exit status, seconds)."""
    started = time.perf_counter()
    with open(log_file, "a", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=clone, env=stage_env(clone, in_image), stdout=out, stderr=subprocess.STDOUT)
    return done.returncode, time.perf_counter() - started


def reproduce(clone: Path, log_file: Path, in_image: bool, *targets: str) -> tuple[int, float]:
    """``dvc repro --force --no-run-cache`` of ``targets`` (default: every stage) in ``clone``, each stage's command
    in the container image when ``in_image``; (exit status, seconds)."""
    dvc = str(Path(sys.executable).parent / "dvc")
    return timed([dvc, "repro", "--force", "--no-run-cache", *targets], clone, in_image, log_file)


def built_numerics(train_record: dict, stages: dict) -> dict | None:
    """The numerics the commit's adapter was trained under: its train record's, or, for a commit older than the
    profiles, the one its ``train.precision`` param implies (bf16 on the CPU, class not recorded)."""
    if "numerics" in train_record:
        return train_record["numerics"]
    section = stages.get("train", {}).get("params", {}).get("params.yaml", {}).get("train", {})
    return {"profile": "cpu-bf16", "class": None} if section.get("precision") == "bf16" else None


def provenance_dir(clone: Path) -> str:
    """Where the commit's stages recorded their environment: its params.yaml's ``paths`` section says, or, for a
    commit older than that section, the folder they wrote to then."""
    try:
        return layout.paths(clone / DEFAULT_PARAMS).provenance
    except InputError:
        return "provenance"


def show(repo: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or None if the commit has no such file."""
    done = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=repo, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def image_ref(clone: Path, commit: str) -> str:
    """``name@digest`` of the image the commit's ``image/bin`` runs stages in, as built on this machine."""
    if not (clone / IMAGE_BIN / "nava-instruct").exists():
        raise InputError(f"{commit[:12]}:{IMAGE_BIN}", "the commit has no container image to rebuild in")
    inspect = 'source image/common.sh && podman image inspect --format "$IMAGE@{{.Digest}}" "$IMAGE"'
    done = subprocess.run(["bash", "-c", inspect], cwd=clone, capture_output=True, text=True)
    if done.returncode != 0:
        raise RunError(f"cannot audit {commit[:12]} in its image: the image is not built here (make image)")
    return done.stdout.strip()


def locked_stages(repo: Path, rev: str) -> tuple[str, dict]:
    """The commit ``rev`` names, and the stages its dvc.lock records."""
    commit = resolve_commit(repo, rev)
    lock_text = show(repo, commit, "dvc.lock")
    if lock_text is None:
        raise InputError(repo / "dvc.lock", f"commit {commit[:12]} has no dvc.lock to audit against")
    return commit, verify.parse_lock(lock_text, f"{commit[:12]}:dvc.lock")


def checkout(repo: Path, commit: str, stages: dict, workdir: Path) -> tuple[Path, list[dict]]:
    """A clone of ``commit`` in ``workdir`` whose inputs match its lock, built in a numerics class this machine has;
    the clone and its rehashed inputs. Refused in one line otherwise, before any work."""
    clone = workdir / "clone"
    git("clone", "--quiet", "--no-checkout", str(repo), str(clone), cwd=workdir)
    git("checkout", "--quiet", "--detach", commit, cwd=clone)
    inputs = commit_inputs(stages, clone, commit)
    built = built_numerics(recorded_environment(repo, commit, clone, "train"), stages)
    if built and (reason := numerics.cannot_rebuild(built)):
        raise RunError(f"cannot audit {commit[:12]} on this machine: {reason}")
    return clone, inputs


def recorded_environment(repo: Path, commit: str, clone: Path, stage: str) -> dict:
    """The environment record ``stage`` committed at ``commit`` ({} if none)."""
    return json.loads(show(repo, commit, f"{provenance_dir(clone)}/{stage}.json") or "{}")


def commit_inputs(stages: dict, clone: Path, commit: str) -> list[dict]:
    """The commit's inputs and params, rehashed; a dvc.lock that does not match them was not made from this commit."""
    inputs = verify.check_inputs(stages, clone)
    if stale := verify.failed(inputs):
        names = ", ".join(f"{row['path']} ({row['status']})" for row in stale[:5])
        raise InputError(
            f"{commit[:12]}:dvc.lock",
            f"does not match the commit's inputs, so it was not produced from this commit: {names}",
        )
    return inputs
