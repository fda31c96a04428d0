"""``nava-instruct verify`` against a real dvc.lock written by DVC in a scratch repository."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers import REPO
from nava_instruct.cli import main
from nava_instruct.errors import InputError
from nava_instruct.release import verify

BIN = Path(sys.executable).parent

# A one-stage pipeline whose outputs sit where the released artifacts do (nested folders included).
MAKE = textwrap.dedent("""\
    import pathlib, yaml
    n = yaml.safe_load(open("params.yaml"))["make"]["n"]
    for name in ("models/adapter/sub", "models/merged", "models/gguf", "release", "metrics"):
        pathlib.Path(name).mkdir(parents=True, exist_ok=True)
    pathlib.Path("models/adapter/weights.bin").write_bytes(bytes(range(256)) * n)
    pathlib.Path("models/adapter/sub/config.json").write_text('{"r": %d}' % n)
    pathlib.Path("models/merged/model.safetensors").write_bytes(b"merged" * n)
    pathlib.Path("models/gguf/model-f16.gguf").write_bytes(b"GGUF" * n)
    pathlib.Path("release/provenance.intoto.json").write_text('{"n": %d}' % n)
    pathlib.Path("metrics/make.json").write_text('{"n": %d}' % n)
""")
PIPELINE = {
    "stages": {
        "make": {
            "cmd": f"{sys.executable} make.py",
            "deps": ["make.py", "lib"],
            "params": ["make"],
            "outs": [
                "models/adapter",
                "models/merged",
                "models/gguf",
                {"release/provenance.intoto.json": {"cache": False}},
            ],
            "metrics": [{"metrics/make.json": {"cache": False}}],
        }
    }
}

# The artifacts sit where the repository's params.yaml says (its paths section, which sign and verify read).
PATHS = yaml.safe_dump({"paths": yaml.safe_load((REPO / "params.yaml").read_text())["paths"]})


def params_text(n: int) -> str:
    return f"make:\n  n: {n}\n{PATHS}"


def run(workdir: Path, *command: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "make.py").write_text(MAKE)
    (tmp_path / "params.yaml").write_text(params_text(3))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helpers.py").write_text("X = 1\n")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE, sort_keys=False))
    run(tmp_path, "git", "init", "-q")
    run(tmp_path, str(BIN / "dvc"), "init", "-q")
    (tmp_path / ".dvcignore").write_text("__pycache__/\n")
    run(tmp_path, str(BIN / "dvc"), "repro", "-q")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rows_by_path(capsys) -> dict[str, str]:
    """The statuses `verify` printed, by path."""
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()]
    return {parts[2]: parts[0] for parts in lines}


def test_hashes_match_what_dvc_recorded(repo):
    stages = verify.read_lock("dvc.lock")
    recorded = {entry["path"]: entry["md5"] for entry in stages["make"]["outs"] + stages["make"]["deps"]}
    assert recorded["models/adapter"].endswith(".dir")
    for path, md5 in recorded.items():
        assert verify.dvc_md5(Path(path), Path("."), verify.dvcignore(Path("."))) == md5, path


def test_untouched_workspace_verifies(repo, capsys):
    assert main(["verify", "--no-signatures"]) == 0
    statuses = rows_by_path(capsys)
    assert set(statuses.values()) == {"OK"}
    assert {
        "make.py",
        "params.yaml:make",
        "models/adapter",
        "release/provenance.intoto.json",
        "metrics/make.json",
    } <= set(statuses)


def test_files_dvcignore_hides_do_not_count(repo, capsys):
    (repo / "lib" / "__pycache__").mkdir()
    (repo / "lib" / "__pycache__" / "helpers.cpython-311.pyc").write_bytes(b"bytecode with a timestamp")
    assert main(["verify", "--no-signatures"]) == 0
    (repo / "lib" / "more.py").write_text("Y = 2\n")
    assert main(["verify", "--no-signatures"]) == 1
    assert rows_by_path(capsys)["lib"] == "MISMATCH"


def test_tampered_output_with_its_mtime_kept_is_a_mismatch(repo, capsys):
    weights = repo / "models" / "adapter" / "weights.bin"
    stat = weights.stat()
    data = bytearray(weights.read_bytes())
    data[7] ^= 1
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # DVC's own state cache would trust this file
    assert main(["verify", "--no-signatures", "--report", "verify.json"]) == 1
    statuses = rows_by_path(capsys)
    assert statuses["models/adapter"] == "MISMATCH"
    assert statuses["models/merged"] == "OK"
    assert '"ok": false' in (repo / "verify.json").read_text()


def test_changed_inputs_and_missing_outputs(repo, capsys):
    (repo / "params.yaml").write_text(params_text(4))
    (repo / "make.py").write_text(MAKE + "# edited\n")
    (repo / "models" / "gguf" / "model-f16.gguf").unlink()
    (repo / "models" / "gguf").rmdir()
    assert main(["verify", "--no-signatures"]) == 1
    lines = {line.split()[2]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["params.yaml:make"].startswith("MISMATCH") and lines["params.yaml:make"].endswith(
        "n: expected 3 found 4"
    )
    assert re.search(r"^MISMATCH  input +make\.py +expected md5 [0-9a-f]{32} found [0-9a-f]{32}$", lines["make.py"])
    assert lines["models/gguf"].split()[0] == "MISSING"


def test_signatures_are_checked_with_the_lock(repo, tmp_path, capsys):
    assert main(["sign", "--key", str(tmp_path / "key.pem")]) == 0
    assert main(["verify"]) == 0
    assert set(rows_by_path(capsys).values()) == {"OK"}

    (repo / "release" / "signatures" / "gguf.sig").unlink()
    assert main(["verify"]) == 1
    assert rows_by_path(capsys)["models/gguf"] == "MISSING"


def test_tampered_signed_files_are_one_readable_line_each(repo, tmp_path, capsys):
    assert main(["sign", "--key", str(tmp_path / "key.pem")]) == 0
    for file in (repo / "models" / "adapter" / "weights.bin", repo / "models" / "adapter" / "sub" / "config.json"):
        file.write_bytes(file.read_bytes() + b"\x8c\x83[Z")
    capsys.readouterr()
    assert main(["verify"]) == 1
    lines = capsys.readouterr().out.splitlines()
    signature = [line for line in lines if line.split()[:2] == ["MISMATCH", "signature"]]
    assert [line.split()[3] for line in signature] == ["models/adapter/sub/config.json:", "models/adapter/weights.bin:"]
    for line in signature:
        assert re.search(r" expected sha256 [0-9a-f]{64} found [0-9a-f]{64}$", line), line
    output = next(line for line in lines if line.split()[:3] == ["MISMATCH", "output", "models/adapter"])
    assert re.search(r" expected md5 [0-9a-f]{32}\.dir found [0-9a-f]{32}\.dir$", output), output
    assert all(len(line) <= 250 and "b'" not in line for line in lines)


def test_missing_public_key_is_one_clear_error(repo, capsys):
    assert main(["verify"]) == 1
    assert "release/signing-key.pub: public key not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, message",
    [
        ("stages: [unclosed\n", r"dvc.lock:2: invalid YAML"),
        ("schema: '2.0'\n", r"dvc.lock: stages: not a dvc.lock"),
        (
            "stages:\n  make:\n    outs:\n    - path: a\n",
            r"stages.make.outs\[0\]: each entry needs 'path' and 'md5'",
        ),
    ],
)
def test_malformed_lock_is_an_input_error(tmp_path, text, message):
    (tmp_path / "dvc.lock").write_text(text)
    with pytest.raises(InputError, match=message):
        verify.read_lock(tmp_path / "dvc.lock")


def test_missing_lock(tmp_path):
    with pytest.raises(InputError, match="dvc.lock: not found"):
        verify.read_lock(tmp_path / "dvc.lock")
