"""``nava-instruct audit`` on a tiny-model params profile of the real pipeline.

A scratch git repository holds the project's code, dvc.yaml and a params.yaml that swaps in the
tiny SmolLM2-tokenizer Llama (committed as ``tiny-base/``) and a few training steps. The whole
pipeline runs once, its dvc.lock is committed, and the audit rebuilds that commit from scratch.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file, save_file

from helpers import BIN, commit, sh
from nava_instruct import numerics
from nava_instruct.cli import main
from nava_instruct.errors import InputError
from nava_instruct.release import audit as audit_module
from nava_instruct.release import rebuild
from nava_instruct.trail import CHECKPOINT_WEIGHTS, MANIFEST, checkpoint_name, file_hashes


def audit(repo: Path, rev: str, out: Path) -> tuple[int, dict]:
    status = main(["audit", "--repo", str(repo), "--rev", rev, "--out", str(out)])
    return status, json.loads((out / "audit.json").read_text())


def test_audit_reproduces_every_artifact_bit_for_bit(published, tmp_path):
    repo, head = published
    before = sh(repo, "git", "status", "--porcelain")
    status, report = audit(repo, head, tmp_path / "report")
    assert status == 0, report
    assert report["verdict"] == "REPRODUCED" and report["repro_exit"] == 0
    artifacts = {row["path"]: row["status"] for row in report["outputs"] if row["kind"] == "artifact"}
    assert {"models/adapter", "models/merged", "models/gguf", "models/base", "data/nava_instruct_train.jsonl"} <= set(
        artifacts
    )
    assert set(artifacts.values()) == {"OK"}
    reports = {row["path"] for row in report["outputs"] if row["kind"] == "report"}
    assert {"metrics/evaluate/metrics.json", "provenance/train.json", "release/provenance.intoto.json"} <= reports
    assert report["environment_differences"] == {} and report["not_rebuilt"] == 0
    assert "**REPRODUCED**" in (tmp_path / "report" / "audit.md").read_text()
    assert sh(repo, "git", "status", "--porcelain") == before  # the audited workspace is left alone


def test_audit_detects_a_tampered_artifact(published, tmp_path):
    repo, head = published
    clone = tmp_path / "publisher"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    for folder in ("models", "data", ".dvc/cache"):  # the publisher's outputs, without re-running
        shutil.copytree(repo / folder, clone / folder, dirs_exist_ok=True, symlinks=True)
    gguf = clone / "models" / "gguf" / "model-Q4_K_M.gguf"
    data = bytearray(gguf.read_bytes())
    data[-100] ^= 0x55
    gguf.chmod(0o644)
    gguf.write_bytes(bytes(data))
    sh(clone, str(BIN / "dvc"), "commit", "-f", "-q", "convert")
    tampered = commit(clone, "tampered GGUF, lock updated to match")

    status, report = audit(clone, tampered, tmp_path / "report")
    assert status == 1
    assert report["verdict"] == "NOT REPRODUCED"
    rows = {row["path"]: row for row in report["outputs"]}
    assert rows["models/gguf"]["status"] == "MISMATCH" and rows["models/gguf"]["stage"] == "convert"
    assert rows["models/adapter"]["status"] == rows["models/merged"]["status"] == "OK"
    assert "convert" in report["environment_differences"]
    assert "| MISMATCH | artifact | `models/gguf` |" in (tmp_path / "report" / "audit.md").read_text()


def test_rebuild_that_stops_partway_reports_every_output_it_did_not_make_as_not_rebuilt(
    published, tmp_path, monkeypatch
):
    """The rebuild's train stage writes its outputs, then fails: nothing from train on counts, though the clone had
    their committed reports."""
    repo, head = published
    reproduce = rebuild.reproduce

    def train_fails(clone: Path, log_file: Path, in_image: bool, *targets: str) -> tuple[int, float]:
        command = "cmd: nava-instruct train --params params.yaml"
        text = (clone / "dvc.yaml").read_text()
        assert command in text
        (clone / "dvc.yaml").write_text(text.replace(command, f"{command} && exit 3"))
        return reproduce(clone, log_file, in_image, *targets)

    monkeypatch.setattr(rebuild, "reproduce", train_fails)
    status, report = audit(repo, head, tmp_path / "report")
    assert status == 1 and report["verdict"] == "NOT REPRODUCED" and report["repro_exit"] != 0
    rows = {row["path"]: row["status"] for row in report["outputs"]}
    ran = ("data/generated/examples.jsonl", "data/nava_instruct_train.jsonl", "models/base")
    assert {path: rows[path] for path in ran} == dict.fromkeys(ran, "OK")
    did_not = (
        "models/adapter",
        "metrics/train/metrics.json",
        "models/merged",
        "provenance/merge.json",
        "models/gguf",
        "metrics/evaluate/metrics.json",
        "release/provenance.intoto.json",
    )
    assert {path: rows[path] for path in did_not} == dict.fromkeys(did_not, "NOT REBUILT")
    assert report["not_rebuilt"] == list(rows.values()).count("NOT REBUILT")
    assert report["environment_differences"] == {}
    markdown = (tmp_path / "report" / "audit.md").read_text()
    assert "| NOT REBUILT | report | `provenance/merge.json` | merge |" in markdown
    assert f"- Not rebuilt (their stage did not run or did not finish): {report['not_rebuilt']} outputs" in markdown


def test_lock_that_does_not_match_its_commit_is_refused_before_rebuilding(published, tmp_path, capsys):
    repo, _ = published
    clone = tmp_path / "edited"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    with open(clone / "src" / "nava_instruct" / "stages" / "train.py", "a") as handle:
        handle.write("# edited after the run\n")
    edited = commit(clone, "code edited, lock not refreshed")
    assert main(["audit", "--repo", str(clone), "--rev", edited, "--out", str(tmp_path / "report")]) == 1
    err = capsys.readouterr().err
    assert (
        "dvc.lock: does not match the commit's inputs" in err and "src/nava_instruct/stages/train.py (MISMATCH)" in err
    )
    assert not (tmp_path / "report").exists()


def test_commit_of_a_class_this_machine_lacks_is_refused_before_rebuilding(published, tmp_path, capsys):
    """A lock whose adapter was trained on a GPU: one line naming what it needs and what is here, and nothing
    rebuilt."""
    repo, _ = published
    clone = tmp_path / "gpu-built"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    record = json.loads((clone / "provenance" / "train.json").read_text())
    assert record["numerics"]["class"] == "portable/x86-64-avx2"
    record["numerics"] |= {"profile": "cuda-bf16", "class": "cuda-bf16/NVIDIA H100 80GB HBM3"}
    (clone / "provenance" / "train.json").write_text(json.dumps(record))
    gpu_built = commit(clone, "a lock from a GPU run")
    assert main(["audit", "--repo", str(clone), "--rev", gpu_built, "--out", str(tmp_path / "report")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"error: cannot audit {gpu_built[:12]} on this machine: it was built under numerics profile 'cuda-bf16' "
        "(class cuda-bf16/NVIDIA H100 80GB HBM3): 'cuda-bf16' needs a CUDA GPU; this machine has none"
    )
    assert not (tmp_path / "report").exists()


def test_a_class_this_cpu_lacks_names_what_it_needs_and_what_is_here(monkeypatch):
    monkeypatch.setattr(numerics, "cpu", lambda: {"model": "AMD EPYC", "features": ["avx2", "fma"]})
    reason = numerics.cannot_rebuild({"profile": "cpu-bf16", "class": "cpu-bf16/amx_bf16"})
    assert (
        reason == "it was built under numerics profile 'cpu-bf16' (class cpu-bf16/amx_bf16):"
        " 'cpu-bf16' needs avx512_bf16; this CPU (AMD EPYC) has avx2, fma"
    )
    monkeypatch.setattr(numerics, "cpu", lambda: {"model": "AMD EPYC", "features": ["avx2", "fma", "avx512_bf16"]})
    assert numerics.cannot_rebuild({"profile": "cpu-bf16", "class": "cpu-bf16/amx_bf16"}).endswith(
        "this machine's class for that profile is cpu-bf16/avx512_bf16, whose bits differ"
    )
    assert numerics.cannot_rebuild({"profile": "portable", "class": "portable/x86-64-avx2"}) is None
    assert rebuild.built_numerics({}, {"train": {"params": {"params.yaml": {"train": {"precision": "bf16"}}}}}) == {
        "profile": "cpu-bf16",
        "class": None,
    }


def test_unknown_revision_and_missing_lock(published, tmp_path):
    repo, _ = published
    with pytest.raises(InputError, match="unknown revision 'no-such-tag'"):
        audit_module.run(str(repo), "no-such-tag", str(tmp_path / "report"))
    first = sh(repo, "git", "rev-list", "--max-parents=0", "HEAD").strip()
    with pytest.raises(InputError, match="has no dvc.lock to audit against"):
        audit_module.run(str(repo), first, str(tmp_path / "report"))
    with pytest.raises(InputError, match="not a git repository"):
        audit_module.run(str(tmp_path), "HEAD", str(tmp_path / "report"))
    assert not (tmp_path / "report").exists()


# -- audit --spot: replays of the training trail ---------------------------------------------------


def spot(repo: Path, rev: str, out: Path, *options: str) -> tuple[int, dict]:
    status = main(["audit", "--repo", str(repo), "--rev", rev, "--out", str(out), *options])
    return status, json.loads((out / "spot.json").read_text())


def publisher_copy(published, folder: Path) -> Path:
    """A clone of the published repository with its outputs and DVC cache, to edit as a forger would."""
    repo, _ = published
    sh(folder.parent, "git", "clone", "-q", str(repo), str(folder))
    for name in ("models", "data", ".dvc/cache"):
        shutil.copytree(repo / name, folder / name, dirs_exist_ok=True, symlinks=True)
    return folder


def test_spot_audit_replays_the_drawn_stretches_and_rebuilds_around_them(published, tmp_path):
    repo, head = published
    status, report = spot(repo, head, tmp_path / "report", "--spot", "2", "--seed", "7")
    assert status == 0, report
    assert report["verdict"] == "OK" and report["seed"] == 7 and report["stretches_total"] == 2
    assert [(row["from"], row["to"], row["status"]) for row in report["stretches"]] == [(0, 2, "OK"), (2, 4, "OK")]
    assert report["last_checkpoint_is_the_adapter"] is True
    rebuilt = {row["path"]: row["status"] for part in report["stages"].values() for row in part["outputs"]}
    for path in ("data/nava_instruct_train.jsonl", "models/base", "models/merged", "models/gguf"):
        assert rebuilt[path] == "OK", path
    assert report["bound"]["0.5"] == 0.25
    text = (tmp_path / "report" / "spot.md").read_text()
    assert "With 2 of 2 stretches replayed, a trail in which a fraction f of stretches" in text


def test_spot_audit_catches_a_forged_checkpoint_and_names_its_stretch(published, tmp_path):
    forger = publisher_copy(published, tmp_path / "forger")
    trail = forger / "models" / "trail"
    weights = trail / checkpoint_name(2) / CHECKPOINT_WEIGHTS
    tensors = load_file(weights)
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + 1e-3  # not trained: nudged
    weights.chmod(0o644)
    save_file(tensors, weights)
    manifest = json.loads((trail / MANIFEST).read_text())  # the forger lists the forged file's hash
    for entry in manifest["checkpoints"]:
        entry["files"] = file_hashes(trail / checkpoint_name(entry["step"]))
    (trail / MANIFEST).chmod(0o644)
    (trail / MANIFEST).write_text(json.dumps(manifest))
    sh(forger, str(BIN / "dvc"), "commit", "-f", "-q", "train")
    forged = commit(forger, "a trail with a forged checkpoint, lock updated to match")

    status, report = spot(forger, forged, tmp_path / "report", "--spot", "1", "--seed", "3")
    drawn = report["stretches"][0]
    assert status == 1 and report["verdict"] == "MISMATCH"
    assert drawn["status"] == "MISMATCH" and drawn["to"] == 2 and "adapter_weights.safetensors" in drawn["differs"]
    assert "| 0 | 0 → 2 | MISMATCH |" in (tmp_path / "report" / "spot.md").read_text()


def test_spot_audit_without_a_checkpoint_or_a_trail_fails_in_one_line(published, tmp_path, capsys):
    copy = publisher_copy(published, tmp_path / "copy")
    head = sh(copy, "git", "rev-parse", "HEAD").strip()
    start = (copy / "models" / "trail" / checkpoint_name(2) / "optimizer.bin").read_bytes()
    digest = hashlib.md5(start).hexdigest()
    (copy / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).unlink()  # and there is no remote
    assert main(["audit", "--repo", str(copy), "--rev", head, "--out", str(tmp_path / "r"), "--spot", "2"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {head[:12]}:models/trail/step-00000002: missing from the cache and the remote"
    )

    lock = yaml.safe_load((copy / "dvc.lock").read_text())
    lock["stages"]["train"]["outs"] = [out for out in lock["stages"]["train"]["outs"] if out["path"] != "models/trail"]
    (copy / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    no_trail = commit(copy, "a lock from before the trail")
    assert main(["audit", "--repo", str(copy), "--rev", no_trail, "--out", str(tmp_path / "r"), "--spot", "2"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {no_trail[:12]}:dvc.lock: its train stage has no training trail (models/trail)"
    )
    assert not (tmp_path / "r").exists()
