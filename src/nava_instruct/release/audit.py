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
import shutil
import tempfile
from pathlib import Path

from nava_instruct.fileio import write_json, write_text
from nava_instruct.release import rebuild, verify

log = logging.getLogger(__name__)

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


def run(repo: str = ".", rev: str = "HEAD", out_dir: str = "audit", keep: bool = False, image: bool = False) -> int:
    """Audit commit ``rev`` of ``repo`` (the steps of the module docstring), in the container image if ``image``;
    0 if it was reproduced."""
    repo_path = Path(repo).resolve()
    commit, stages = rebuild.locked_stages(repo_path, rev)
    workdir = Path(tempfile.mkdtemp(prefix="nava-audit-"))
    try:
        report = full_rebuild(repo_path, commit, stages, workdir, image)
    finally:
        if keep:
            log.info("kept the clone: %s", workdir / "clone")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    write_report(report, Path(out_dir))
    return 0 if report["verdict"] == "REPRODUCED" else 1


def full_rebuild(repo: Path, commit: str, stages: dict, workdir: Path, image: bool) -> dict:
    """Steps 1 to 4 in ``workdir``: clone the commit, check its inputs, rebuild it (in its image if ``image``),
    compare the outputs; the report."""
    clone, inputs = rebuild.checkout(repo, commit, stages, workdir)
    records = rebuild.provenance_dir(clone)
    container = rebuild.image_ref(clone, commit) if image else None
    log.info("rebuilding %s in %s (log: %s)", commit[:12], container or clone, workdir / "repro.log")
    rebuild.clear_outputs(stages, clone)
    exit_status, seconds = rebuild.reproduce(clone, workdir / "repro.log", image)
    report = outputs_report(commit, exit_status, seconds, len(inputs), rebuild.check_outputs(stages, clone))
    report["image"] = container and {
        "used": container,
        "recorded": rebuild.recorded_environment(repo, commit, clone, "train").get("container", {}).get("image"),
    }
    rebuilt_differently = {
        row["stage"]
        for row in verify.failed(report["outputs"])
        if row["kind"] == "artifact" and row["status"] != rebuild.NOT_REBUILT
    }
    report["environment_differences"] = {
        stage: environment_diff(
            rebuild.recorded_environment(repo, commit, clone, stage), read_json(clone / records / f"{stage}.json")
        )
        for stage in sorted(rebuilt_differently)
    }
    if exit_status != 0:
        report["repro_log_tail"] = (workdir / "repro.log").read_text(encoding="utf-8", errors="replace")[-4000:]
    return report


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
        "not_rebuilt": sum(row["status"] == rebuild.NOT_REBUILT for row in outputs),
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
