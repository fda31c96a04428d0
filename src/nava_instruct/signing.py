"""Signing the released artifacts in the OpenSSF model-signing format, and checking those signatures.

Each released artifact (the adapter, the merged model, the GGUF folder and the in-toto statement
of stage ``release``) gets one signature: a Sigstore bundle whose DSSE envelope holds an in-toto
statement listing the sha256 of every file, signed with a local elliptic-curve key
(``model_signing``'s key-based signer; no network). Signatures live in ``release/signatures/``
and the public key in ``release/signing-key.pub``, both committed with the ``dvc.lock`` they
belong to, so a clone that pulls or rebuilds the artifacts can check them. The private key
stays outside the repository.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_dir, atomic_path, write_text

log = logging.getLogger(__name__)

SIGNED = {
    "adapter": "models/adapter",
    "merged": "models/merged",
    "gguf": "models/gguf",
    "provenance": "release/provenance.intoto.json",
}
SIGNATURE_DIR = "release/signatures"
PUBLIC_KEY = "release/signing-key.pub"
PRIVATE_KEY_ENV = "NAVA_SIGNING_KEY"
DEFAULT_PRIVATE_KEY = Path.home() / ".config" / "nava-instruct" / "signing-key.pem"


def private_key_path() -> Path:
    return Path(os.environ.get(PRIVATE_KEY_ENV, DEFAULT_PRIVATE_KEY))


def ensure_key(private_key: Path, public_key: Path) -> None:
    """Create a P-256 private key at ``private_key`` if there is none; write its public half to ``public_key``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if private_key.exists():
        try:
            key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
        except (ValueError, TypeError) as error:
            raise InputError(private_key, f"not an unencrypted PEM private key ({error})") from None
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        with atomic_path(private_key) as tmp:
            tmp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            tmp.chmod(0o600)
        log.info("created a new signing key: %s (keep it private; %s is its public half)", private_key, public_key)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write_text(public_key, pem.decode("ascii"))


def require_artifacts(artifacts: dict[str, str]) -> None:
    for path in artifacts.values():
        if not Path(path).exists():
            raise InputError(path, "artifact not found: run `dvc repro` or `dvc pull` first")


def sign(private_key: Path, public_key: Path = Path(PUBLIC_KEY), signature_dir: Path = Path(SIGNATURE_DIR), artifacts: dict[str, str] = SIGNED) -> list[Path]:
    """Sign every artifact; the signature folder is replaced only once all of them are signed."""
    from model_signing import signing

    require_artifacts(artifacts)
    ensure_key(private_key, public_key)
    with atomic_dir(signature_dir) as tmp:
        for name, path in artifacts.items():
            signing.Config().use_elliptic_key_signer(private_key=private_key).sign(Path(path), tmp / f"{name}.sig")
            log.info("signed %s", path)
    return [signature_dir / f"{name}.sig" for name in artifacts]


def check(public_key: Path = Path(PUBLIC_KEY), signature_dir: Path = Path(SIGNATURE_DIR), artifacts: dict[str, str] = SIGNED) -> list[dict]:
    """One row per artifact: OK, MISMATCH (files differ from the signed ones, or a bad signature) or MISSING."""
    from model_signing import verifying

    if not public_key.is_file():
        raise InputError(public_key, "public key not found: sign the release first (`nava-instruct sign`)")
    rows = []
    for name, path in artifacts.items():
        signature = signature_dir / f"{name}.sig"
        row = {"check": "signature", "path": path, "signature": signature.as_posix()}
        if not signature.is_file():
            rows.append({**row, "status": "MISSING", "detail": f"no signature {signature}"})
            continue
        if not Path(path).exists():
            rows.append({**row, "status": "MISSING", "detail": "artifact not found"})
            continue
        try:
            verifying.Config().use_elliptic_key_verifier(public_key=public_key).verify(Path(path), signature)
        except Exception as error:  # model_signing raises ValueError and lower-level crypto/parse errors alike
            rows.append({**row, "status": "MISMATCH", "detail": " ".join(str(error).split())[:300]})
        else:
            rows.append({**row, "status": "OK", "detail": ""})
    return rows
