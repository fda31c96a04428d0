"""``nava-instruct audit``: rebuild a commit's pipeline from scratch and compare it with its ``dvc.lock``.

1. Clone the repository into a temporary folder and check out the commit (the workspace the
   command runs from is never touched).
2. Check that the commit's ``dvc.lock`` describes the commit's own inputs (code, locks, params);
   if it does not, the lock was not produced from this commit and nothing is rebuilt.
3. Remove from the clone the lock and every output it records (the uncached ones are committed),
   then run ``dvc repro --force --no-run-cache`` there with this environment's Python and tools,
   the clone's own code first on the import path. With ``--image`` every stage's command runs in
   the container image instead (the commit's ``image/bin``, no network), as ``make repro-image``
   does. DVC writes a stage to the clone's ``dvc.lock`` when it finishes, so the outputs of a stage
   missing from it are NOT REBUILT, never OK.
4. Hash every output recorded in the commit's lock (``verify``). Cached outputs (datasets,
   models) are the artifacts and must match bit for bit; uncached ones (metrics, plots, provenance
   records) carry timings and are listed for information.
5. Write ``audit.json`` and ``audit.md``: OK, MISMATCH, MISSING or NOT REBUILT per output and, for
   each rebuilt stage whose artifacts differ, how the environment it ran in now differs from the
   one recorded at the commit.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nava_instruct import layout, numerics
from nava_instruct.errors import InputError, RunError
from nava_instruct.fileio import write_json, write_text
from nava_instruct.params import DEFAULT_PARAMS
from nava_instruct.release import verify

log = logging.getLogger(__name__)

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
ENVIRONMENT_KEYS = (
    "python",
    "implementation",
    "platform",
    "machine",
    "cpu_count",
    "cpu",
    "packages",
    "torch",
    "container",
    "determinism_env",
    "locks",
    "numerics",
)


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


def flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def environment_diff(recorded: dict, now: dict) -> list[dict]:
    """The environment keys (packages, torch, threads, ...) whose values differ between two provenance records."""
    before = flatten({key: recorded.get(key) for key in ENVIRONMENT_KEYS})
    after = flatten({key: now.get(key) for key in ENVIRONMENT_KEYS})
    return [
        {"key": key, "recorded": before.get(key), "audit": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


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


def markdown(report: dict) -> str:
    lines = [
        f"# Audit of {report['commit']}",
        "",
        f"- Verdict: **{report['verdict']}**",
        f"- Rebuilt with `dvc repro --force --no-run-cache` in a clean clone, in {report['repro_seconds']:.0f} s"
        f" (exit status {report['repro_exit']})",
        *(
            [
                f"- Every stage ran in the image `{report['image']['used']}`; the commit's train stage ran in"
                f" `{report['image']['recorded']}`"
            ]
            if report["image"]
            else []
        ),
        "- Artifacts (cached outputs, must match bit for bit):"
        f" {report['artifacts_matched']} of {report['artifacts_total']} match",
        "- Reports (uncached outputs: metrics, plots, provenance; may carry timings):"
        f" {report['reports_matched']} of {report['reports_total']} match",
        f"- Not rebuilt (their stage did not run or did not finish): {report['not_rebuilt']} outputs",
        "",
        "| status | kind | output | stage | dvc.lock md5 | rebuilt md5 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['status']} | {r['kind']} | `{r['path']}` | {r['stage']} | `{r['expected']}` | `{r['actual']}` |"
        for r in report["outputs"]
    ]
    for stage, diffs in report["environment_differences"].items():
        lines += ["", f"## Environment differences, stage `{stage}`", ""]
        if not diffs:
            lines.append(
                "None: the environment matches the recorded one, so it does not explain the difference"
                " (a tampered artifact, or a step that is not deterministic)."
            )
            continue
        lines += ["| key | recorded at the commit | this audit |", "|---|---|---|"]
        lines += [f"| `{d['key']}` | `{d['recorded']}` | `{d['audit']}` |" for d in diffs]
    if report["inputs_checked"]:
        lines += [
            "",
            f"Inputs: all {report['inputs_checked']} recorded inputs and params of the commit match its dvc.lock.",
        ]
    return "\n".join(lines) + "\n"


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


def run(repo: str = ".", rev: str = "HEAD", out_dir: str = "audit", keep: bool = False, image: bool = False) -> int:
    """Audit commit ``rev`` of ``repo`` (the steps of the module docstring), in the container image if ``image``;
    0 if it was reproduced."""
    repo_path = Path(repo).resolve()
    commit, stages = locked_stages(repo_path, rev)
    workdir = Path(tempfile.mkdtemp(prefix="nava-audit-"))
    try:
        report = rebuild(repo_path, commit, stages, workdir, image)
    finally:
        if keep:
            log.info("kept the clone: %s", workdir / "clone")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    write_report(report, Path(out_dir))
    return 0 if report["verdict"] == "REPRODUCED" else 1


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


def rebuild(repo: Path, commit: str, stages: dict, workdir: Path, image: bool) -> dict:
    """Steps 1 to 4 in ``workdir``: clone the commit, check its inputs, rebuild it (in its image if ``image``),
    compare the outputs; the report."""
    clone, inputs = checkout(repo, commit, stages, workdir)
    records = provenance_dir(clone)
    container = image_ref(clone, commit) if image else None
    log.info("rebuilding %s in %s (log: %s)", commit[:12], container or clone, workdir / "repro.log")
    clear_outputs(stages, clone)
    exit_status, seconds = reproduce(clone, workdir / "repro.log", image)
    report = outputs_report(commit, exit_status, seconds, len(inputs), check_outputs(stages, clone))
    report["image"] = container and {
        "used": container,
        "recorded": recorded_environment(repo, commit, clone, "train").get("container", {}).get("image"),
    }
    rebuilt_differently = {
        row["stage"]
        for row in verify.failed(report["outputs"])
        if row["kind"] == "artifact" and row["status"] != NOT_REBUILT
    }
    report["environment_differences"] = {
        stage: environment_diff(
            recorded_environment(repo, commit, clone, stage), read_json(clone / records / f"{stage}.json")
        )
        for stage in sorted(rebuilt_differently)
    }
    if exit_status != 0:
        report["repro_log_tail"] = (workdir / "repro.log").read_text(encoding="utf-8", errors="replace")[-4000:]
    return report


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


def outputs_report(commit: str, exit_status: int, seconds: float, inputs_checked: int, outputs: list[dict]) -> dict:
    """The verdict and the counts of matching artifacts and reports."""
    artifacts = [row for row in outputs if row["kind"] == "artifact"]
    reports = [row for row in outputs if row["kind"] == "report"]
    return {
        "commit": commit,
        "verdict": "REPRODUCED" if exit_status == 0 and not verify.failed(artifacts) else "NOT REPRODUCED",
        "repro_exit": exit_status,
        "repro_seconds": round(seconds, 1),
        "artifacts_total": len(artifacts),
        "artifacts_matched": len(artifacts) - len(verify.failed(artifacts)),
        "reports_total": len(reports),
        "reports_matched": len(reports) - len(verify.failed(reports)),
        "not_rebuilt": sum(row["status"] == NOT_REBUILT for row in outputs),
        "inputs_checked": inputs_checked,
        "outputs": outputs,
    }


def write_report(report: dict, out: Path) -> None:
    """Step 5: ``audit.json`` and ``audit.md``, the latter also shown."""
    write_json(out / "audit.json", report)
    write_text(out / "audit.md", markdown(report))
    print(markdown(report))
    log.info("%s: %s (%s, %s)", report["commit"][:12], report["verdict"], out / "audit.json", out / "audit.md")


def add_arguments(parser) -> None:
    parser.add_argument("--repo", default=".", help="git repository (default: %(default)s)")
    parser.add_argument("--rev", default="HEAD", help="commit, tag or branch to audit (default: %(default)s)")
    parser.add_argument("--out", default="audit", help="folder for audit.json and audit.md (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone for inspection")
    parser.add_argument(
        "--image", action="store_true", help="run every stage in the container image (make image), without network"
    )
    parser.add_argument(
        "--spot",
        type=int,
        metavar="K",
        help="instead of the whole rebuild, replay K random stretches of the training trail (release/spot.py)",
    )
    parser.add_argument("--seed", type=int, help="with --spot: draw the stretches with this seed (printed by a run)")


def main(args) -> int:
    if args.spot is not None:
        from nava_instruct.release import spot

        return spot.run(args.repo, args.rev, args.out, args.spot, args.seed, args.image)
    return run(args.repo, args.rev, args.out, args.keep, args.image)
