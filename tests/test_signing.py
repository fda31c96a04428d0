"""Signing the released artifacts (OpenSSF model-signing, local P-256 key) and checking the signatures."""

import hashlib
import json
from pathlib import Path

import pytest

from nava_instruct.errors import InputError
from nava_instruct.release import signing

WEIGHTS = bytes(range(256)) * 64
EDITED = WEIGHTS[:100] + bytes([WEIGHTS[100] ^ 1]) + WEIGHTS[101:]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def release(tmp_path, monkeypatch):
    """Two small artifacts (a folder and a file) in tmp_path, which is the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "adapter").mkdir(parents=True)
    (tmp_path / "models" / "adapter" / "adapter_model.safetensors").write_bytes(WEIGHTS)
    (tmp_path / "models" / "adapter" / "adapter_config.json").write_text('{"r": 4}\n')
    (tmp_path / "statement.json").write_text('{"_type": "https://in-toto.io/Statement/v1"}\n')
    artifacts = {"adapter": "models/adapter", "provenance": "statement.json"}
    key = tmp_path / "keys" / "signing-key.pem"
    return artifacts, key


def sign(artifacts, key):
    return signing.sign(key, Path("signing-key.pub"), Path("signatures"), artifacts)


def check(artifacts, public_key="signing-key.pub"):
    return {row["path"]: row for row in signing.check(Path(public_key), Path("signatures"), artifacts)}


def test_sign_then_check_ok_with_a_new_private_key(release):
    artifacts, key = release
    written = sign(artifacts, key)
    assert [p.name for p in written] == ["adapter.sig", "provenance.sig"]
    assert key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in Path("signing-key.pub").read_text()
    bundle = json.loads(Path("signatures/adapter.sig").read_text())
    assert bundle["mediaType"].startswith("application/vnd.dev.sigstore.bundle")
    assert {row["status"] for row in check(artifacts).values()} == {"OK"}


def test_existing_key_is_reused(release):
    artifacts, key = release
    sign(artifacts, key)
    first = key.read_bytes()
    sign(artifacts, key)
    assert key.read_bytes() == first
    assert {row["status"] for row in check(artifacts).values()} == {"OK"}


@pytest.mark.parametrize(
    "tamper, file, expected, found",
    [
        ("edit", "adapter_model.safetensors", sha256(WEIGHTS), sha256(EDITED)),
        ("add", "extra.bin", "(no file)", sha256(b"x")),
        ("remove", "adapter_config.json", sha256(b'{"r": 4}\n'), "(no file)"),
    ],
)
def test_changed_artifact_is_a_mismatch_naming_the_file_and_both_digests(release, tamper, file, expected, found):
    artifacts, key = release
    sign(artifacts, key)
    folder = Path("models/adapter")
    if tamper == "edit":
        (folder / file).write_bytes(EDITED)
    elif tamper == "add":
        (folder / file).write_bytes(b"x")
    else:
        (folder / file).unlink()
    rows = signing.check(Path("signing-key.pub"), Path("signatures"), artifacts)
    assert [(row["path"], row["status"]) for row in rows] == [("models/adapter", "MISMATCH"), ("statement.json", "OK")]
    assert rows[0]["detail"] == f"models/adapter/{file}: expected sha256 {expected} found {found}"


def test_each_changed_file_is_one_row(release):
    artifacts, key = release
    sign(artifacts, key)
    Path("models/adapter/adapter_config.json").write_text('{"r": 8}\n')
    Path("statement.json").write_text("{}\n")
    Path("models/adapter/.git").mkdir()  # ignored by the signature, as model_signing ignores it
    Path("models/adapter/.git/HEAD").write_text("ref\n")
    rows = [
        row for row in signing.check(Path("signing-key.pub"), Path("signatures"), artifacts) if row["status"] != "OK"
    ]
    assert [row["file"] for row in rows] == ["models/adapter/adapter_config.json", "statement.json"]
    statement = sha256(b'{"_type": "https://in-toto.io/Statement/v1"}\n')
    assert [(row["expected"], row["actual"]) for row in rows] == [
        (sha256(b'{"r": 4}\n'), sha256(b'{"r": 8}\n')),
        (statement, sha256(b"{}\n")),
    ]


def test_missing_signature_and_wrong_key(release, tmp_path):
    artifacts, key = release
    sign(artifacts, key)
    Path("signatures/provenance.sig").unlink()
    rows = check(artifacts)
    assert rows["statement.json"]["status"] == "MISSING" and "no signature" in rows["statement.json"]["detail"]

    signing.ensure_key(tmp_path / "other.pem", tmp_path / "other.pub")
    rows = signing.check(tmp_path / "other.pub", Path("signatures"), artifacts)
    assert [(row["path"], row["status"]) for row in rows] == [
        ("models/adapter", "MISMATCH"),
        ("statement.json", "MISSING"),
    ]
    detail = rows[0]["detail"]
    assert detail.startswith("bad signature: ") and len(detail) <= 200 and "\n" not in detail and "b'" not in detail


def test_missing_public_key_is_an_input_error(release):
    artifacts, _ = release
    with pytest.raises(InputError, match="signing-key.pub.*public key not found"):
        check(artifacts)


def test_missing_artifact_signs_nothing_and_keeps_old_signatures(release):
    artifacts, key = release
    sign(artifacts, key)
    before = {p.name: p.read_bytes() for p in Path("signatures").iterdir()}
    with pytest.raises(InputError, match="models/merged.*artifact not found"):
        sign({**artifacts, "merged": "models/merged"}, key)
    assert {p.name: p.read_bytes() for p in Path("signatures").iterdir()} == before


def test_bad_private_key_is_an_input_error(release):
    artifacts, key = release
    key.parent.mkdir(parents=True)
    key.write_text("not a key\n")
    with pytest.raises(InputError, match="signing-key.pem.*not an unencrypted PEM private key"):
        sign(artifacts, key)
    assert not Path("signatures").exists()
