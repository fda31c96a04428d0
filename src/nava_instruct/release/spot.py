"""``nava-instruct audit --spot K``: replay K random stretches of a commit's training trail, bit for bit.

The train stage keeps every checkpoint it takes (the trail, pushed with the model) and a manifest of
their files' sha256. Training is deterministic and resumes bit for bit, so any stretch between two
checkpoints can be replayed on its own. An auditor who replays K stretches drawn at random catches a
trail in which a fraction f of the stretches was not really trained with probability at least
1 - (1 - f)^K, in minutes instead of the hours a full rebuild takes (``audit`` without ``--spot``).

1. Clone the commit, check its inputs and numerics class (as the full audit does), and rebuild the
   cheap stages (generate, split, base) in full; their outputs must match the lock.
2. Draw K of the trail's S stretches with the auditor's own randomness (the seed is printed, and
   ``--seed`` repeats the draw). For each, fetch its starting checkpoint from the remote, replay it
   (``nava-instruct train --until END``) and compare every file of the checkpoint it ends at with the
   manifest.
3. Check that the trail's last checkpoint holds the published adapter's weights, then rebuild merge
   and convert from the published adapter; their outputs must match the lock.
4. Write ``spot.json`` and ``spot.md``: OK or MISMATCH per stretch with its time, and the bound.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import shutil
import tempfile
from pathlib import Path

from nava_instruct import layout
from nava_instruct.errors import InputError
from nava_instruct.fileio import write_json, write_text
from nava_instruct.params import DEFAULT_PARAMS
from nava_instruct.release import rebuild, verify
from nava_instruct.trail import ADAPTER_WEIGHTS, CHECKPOINT_WEIGHTS, MANIFEST, checkpoint_name, file_hashes

log = logging.getLogger(__name__)

CHEAP_STAGES = ("generate", "split", "base")
REBUILT_FROM_ADAPTER = ("merge", "convert")
FRACTIONS = (0.05, 0.1, 0.25, 0.5)  # of forged stretches, for the report's bound


def run(
    repo: str = ".",
    rev: str = "HEAD",
    out_dir: str = "audit",
    spot: int = 3,
    seed: int | None = None,
    image: bool = False,
) -> int:
    """Spot-check commit ``rev`` of ``repo`` (the steps of the module docstring); 0 if every check passed."""
    repo_path = Path(repo).resolve()
    commit, stages = rebuild.locked_stages(repo_path, rev)
    if "train" not in stages:
        raise InputError(f"{commit[:12]}:{verify.LOCK}", "has no train stage, so no training trail to spot-check")
    seed = secrets.randbits(63) if seed is None else seed
    workdir = Path(tempfile.mkdtemp(prefix="nava-spot-"))
    try:
        report = spot_check(repo_path, commit, stages, workdir, spot, seed, image)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = Path(out_dir)
    write_json(out / "spot.json", report)
    write_text(out / "spot.md", markdown(report))
    print(markdown(report))
    return 0 if report["verdict"] == "OK" else 1


def spot_check(repo: Path, commit: str, stages: dict, workdir: Path, spot: int, seed: int, image: bool) -> dict:
    clone, _ = rebuild.checkout(repo, commit, stages, workdir)
    trail = layout.paths(clone / DEFAULT_PARAMS).trail
    if trail not in verify.recorded({"train": stages["train"]}, "outs"):
        raise InputError(f"{commit[:12]}:{verify.LOCK}", f"its train stage has no training trail ({trail})")
    manifest = json.loads(remote_bytes(repo, commit, f"{trail}/{MANIFEST}"))
    steps = [entry["step"] for entry in manifest["checkpoints"]]
    stretches = list(zip(steps, steps[1:]))
    if not 1 <= spot <= len(stretches):
        raise InputError(f"{trail}/{MANIFEST}", f"--spot {spot}: the trail has {len(stretches)} stretches")
    log_file = workdir / "spot.log"
    log.info("rebuilding %s in %s (log: %s)", ", ".join(CHEAP_STAGES), clone, log_file)
    cheap = rebuild_stages(clone, stages, CHEAP_STAGES, log_file, image)
    drawn = sorted(random.Random(seed).sample(range(len(stretches)), spot))
    log.info("replaying stretches %s of %d (seed %d)", drawn, len(stretches), seed)
    files = {entry["step"]: entry["files"] for entry in manifest["checkpoints"]}
    replays = [
        replay(repo, commit, clone, trail, stretches[index], files, log_file, image) | {"index": index}
        for index in drawn
    ]
    adapter = layout.paths(clone / DEFAULT_PARAMS).adapter
    fetch(repo, commit, adapter, clone / adapter)
    last_weights = f"{trail}/{checkpoint_name(steps[-1])}/{CHECKPOINT_WEIGHTS}"
    last = fetch(repo, commit, last_weights, workdir / CHECKPOINT_WEIGHTS)
    ends_at_adapter = same_tensors(last, clone / adapter / ADAPTER_WEIGHTS)
    from_adapter = rebuild_stages(clone, stages, REBUILT_FROM_ADAPTER, log_file, image, "--single-item")
    artifacts = [row for row in cheap["outputs"] + from_adapter["outputs"] if row["kind"] == "artifact"]
    checks_pass = not verify.failed(artifacts) and ends_at_adapter and all(r["status"] == "OK" for r in replays)
    return {
        "commit": commit,
        "verdict": "OK" if checks_pass and cheap["exit"] == from_adapter["exit"] == 0 else "MISMATCH",
        "seed": seed,
        "stretches_total": len(stretches),
        "stretches": replays,
        "bound": {str(f): round((1 - f) ** spot, 4) for f in FRACTIONS},
        "last_checkpoint_is_the_adapter": ends_at_adapter,
        "stages": {"rebuilt": cheap, "from_adapter": from_adapter},
        "image": rebuild.image_ref(clone, commit) if image else None,
    }


def remote_bytes(repo: Path, commit: str, path: str) -> bytes:
    """A file of a DVC output at ``commit``, from the local cache or the commit's default remote."""
    from dvc.api import DVCFileSystem

    try:
        return DVCFileSystem(str(repo), rev=commit).read_bytes(path)
    except FileNotFoundError as error:
        raise InputError(f"{commit[:12]}:{path}", "missing from the cache and the remote") from error


def fetch(repo: Path, commit: str, path: str, dest: Path) -> Path:
    """A file or folder of a DVC output at ``commit`` copied to ``dest``; ``dest``."""
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(repo), rev=commit)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        fs.get(path, str(dest), recursive=fs.isdir(path))
    except FileNotFoundError as error:  # not in the output's listing, or its bytes are nowhere
        raise InputError(f"{commit[:12]}:{path}", "missing from the cache and the remote") from error
    return dest


def rebuild_stages(clone: Path, stages: dict, names: tuple, log_file: Path, image: bool, *options: str) -> dict:
    """``names`` rebuilt in the clone (their outputs removed first); their outputs against the lock."""
    subset = {name: stages[name] for name in names if name in stages}
    rebuild.clear_outputs(subset, clone)
    exit_status, seconds = rebuild.reproduce(clone, log_file, image, *options, *subset)
    return {"exit": exit_status, "seconds": round(seconds, 1), "outputs": rebuild.check_outputs(subset, clone)}


def replay(
    repo: Path, commit: str, clone: Path, trail: str, stretch: tuple, files: dict, log_file: Path, image: bool
) -> dict:
    """One stretch: its start fetched into an empty trail, trained to its end, the end's files against the manifest."""
    start, end = stretch
    shutil.rmtree(clone / trail, ignore_errors=True)
    first = fetch(repo, commit, f"{trail}/{checkpoint_name(start)}", clone / trail / checkpoint_name(start))
    if file_hashes(first) != files[start]:
        return {"from": start, "to": end, "status": "MISMATCH", "seconds": 0.0, "differs": ["(its start)"]}
    # Found on stage_env's PATH: this environment's command, or the image's launcher.
    command = ["nava-instruct", "train", "--params", DEFAULT_PARAMS, "--until", str(end)]
    exit_status, seconds = rebuild.timed(command, clone, image, log_file)
    replayed = clone / trail / checkpoint_name(end)
    found = file_hashes(replayed) if exit_status == 0 and replayed.is_dir() else {}
    differs = sorted(name for name in files[end].keys() | found.keys() if files[end].get(name) != found.get(name))
    status = "OK" if not differs else "MISMATCH"
    log.info("stretch %d -> %d: %s in %.0f s", start, end, status, seconds)
    return {"from": start, "to": end, "status": status, "seconds": round(seconds, 1), "differs": differs}


def same_tensors(checkpoint: Path, adapter: Path) -> bool:
    """Whether two safetensors files hold the same tensors, bit for bit (their headers may differ)."""
    from safetensors.numpy import load_file

    first, second = load_file(checkpoint), load_file(adapter)
    return first.keys() == second.keys() and all(first[k].tobytes() == second[k].tobytes() for k in first)


def markdown(report: dict) -> str:
    spot, total = len(report["stretches"]), report["stretches_total"]
    lines = [
        f"# Spot audit of {report['commit']}",
        "",
        f"- Verdict: **{report['verdict']}**",
        f"- {spot} of {total} stretches of the training trail replayed, drawn with seed {report['seed']}"
        f" (`--seed {report['seed']}` draws them again)",
        f"- The trail's last checkpoint holds the published adapter: {report['last_checkpoint_is_the_adapter']}",
        *([f"- Every stage ran in the image `{report['image']}`"] if report["image"] else []),
        "",
        "| stretch | steps | status | seconds | files that differ |",
        "|---|---|---|---|---|",
        *(
            f"| {r['index']} | {r['from']} → {r['to']} | {r['status']} | {r['seconds']:.0f} | {', '.join(r['differs'])}"
            " |"
            for r in report["stretches"]
        ),
        "",
        "| status | kind | output | stage | dvc.lock md5 | rebuilt md5 |",
        "|---|---|---|---|---|---|",
    ]
    for part in report["stages"].values():
        lines += [
            f"| {r['status']} | {r['kind']} | `{r['path']}` | {r['stage']} | `{r['expected']}` | `{r['actual']}` |"
            for r in part["outputs"]
        ]
    bound = ", ".join(f"f = {f}: {p}" for f, p in report["bound"].items())
    lines += [
        "",
        f"With {spot} of {total} stretches replayed, a trail in which a fraction f of stretches was not really"
        f" trained passes with probability at most (1 − f)^{spot} ({bound}).",
    ]
    return "\n".join(lines) + "\n"
