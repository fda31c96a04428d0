"""Every stage run through the CLI leaves a record of the environment it ran in."""

import json
import os
import sys

from helpers import write_params_file
from nava_instruct.cli import main
from nava_instruct.fileio import write_jsonl
from nava_instruct.release import provenance


def test_environment_names_python_packages_and_locks(monkeypatch, tmp_path):
    (tmp_path / "requirements.lock").write_text("lark==1.0\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    record = provenance.environment()
    json.dumps(record)  # plain JSON
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "lark" in record["packages"] and "nava-instruct" in record["packages"]
    assert record["determinism_env"]["PYTHONHASHSEED"] == "0"
    import hashlib

    assert record["locks"] == {"requirements.lock": hashlib.sha256(b"lark==1.0\n").hexdigest()}


def test_torch_state_is_reported_once_torch_is_loaded():
    import torch

    state = provenance.torch_state()
    assert state["loaded"] and state["version"] == torch.__version__
    assert state["threads"] == torch.get_num_threads()
    assert state["deterministic_algorithms"] == torch.are_deterministic_algorithms_enabled()


def test_cli_runs_offline_unless_told_otherwise(monkeypatch, tmp_path):
    """transformers writes HF_HUB_OFFLINE into saved tokenizer configs: an unset variable would change model bytes."""
    (tmp_path / "ok.nava").write_text("let M = euclidean_plane()\n")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    main(["nava", "fmt", str(tmp_path / "ok.nava")])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    main(["nava", "fmt", str(tmp_path / "ok.nava")])
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_stage_records_name_their_stage_command_and_numerics(monkeypatch, tmp_path):
    """Two stages run in one environment leave different records, which an audit still compares as the same
    environment."""
    from nava_instruct.release.audit import environment_diff
    from test_split import make_pool

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "pool" / "examples.jsonl", make_pool(40))
    split_outputs = {"train_out": "t.jsonl", "eval_out": "e.jsonl", "meta_dir": "meta", "report": "report.json"}
    write_params_file(
        tmp_path / "params.yaml",
        generate={"size": 40, "output_dir": "generated"},
        split={"generated_dir": "pool", "extra_dir": "none", **split_outputs},
    )
    raw = {}
    for stage in ("generate", "split"):
        assert main([stage, "--params", "params.yaml"]) == 0
        raw[stage] = (tmp_path / "provenance" / f"{stage}.json").read_bytes()
    assert raw["generate"] != raw["split"]
    records = {stage: json.loads(text) for stage, text in raw.items()}
    for stage, record in records.items():
        assert (record["stage"], record["command"]) == (stage, f"nava-instruct {stage} --params params.yaml")
        assert record["packages"]["lark"] and record["python"] and record["numerics"]["profile"] == "portable"
    assert environment_diff(records["generate"], records["split"]) == []
