"""Signing the released artifacts in the OpenSSF model-signing format, and checking those signatures.

Each released artifact (the adapter, the merged model, the GGUF folder and the in-toto statement
of stage ``release``) gets one signature: a Sigstore bundle whose DSSE envelope holds an in-toto
statement listing the sha256 of every file, signed with a local elliptic-curve key
(``model_signing``'s key-based signer; no network). Signatures live in ``release/signatures/``
and the public key in ``release/signing-key.pub``, both committed with the ``dvc.lock`` they
belong to, so a clone that pulls or rebuilds the artifacts can check them. The private key
stays outside the repository.

``model_signing`` alone decides whether a signature verifies. When one does not, the digests its
statement lists are compared with the files to say which files differ: one row per file, with the
signed and the current sha256 in hex.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from pathlib import Path, PurePosixPath

from nava_instruct import layout
from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_dir, atomic_path, write_text
from nava_instruct.layout import Paths
from nava_instruct.params import add_params_option

log = logging.getLogger(__name__)

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
            tmp.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            tmp.chmod(0o600)
        log.info("created a new signing key: %s (keep it private; %s is its public half)", private_key, public_key)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write_text(public_key, pem.decode("ascii"))


def signed_artifacts(paths: Paths) -> dict[str, str]:
    """What gets signed, by signature name: the three model artifacts and the in-toto statement."""
    return {"adapter": paths.adapter, "merged": paths.merged, "gguf": paths.gguf, "provenance": paths.statement}


def require_artifacts(artifacts: dict[str, str]) -> None:
    for path in artifacts.values():
        if not Path(path).exists():
            raise InputError(path, "artifact not found: run `dvc repro` or `dvc pull` first")


def sign(private_key: Path, public_key: Path, signature_dir: Path, artifacts: dict[str, str]) -> list[Path]:
    """Sign every artifact; the signature folder is replaced only once all of them are signed."""
    from model_signing import signing

    require_artifacts(artifacts)
    ensure_key(private_key, public_key)
    with atomic_dir(signature_dir) as tmp:
        for name, path in artifacts.items():
            signing.Config().use_elliptic_key_signer(private_key=private_key).sign(Path(path), tmp / f"{name}.sig")
            log.info("signed %s", path)
    return [signature_dir / f"{name}.sig" for name in artifacts]


def current_files(artifact: Path, ignored: set[str]) -> dict[str, Path]:
    """The artifact's files by the names a signature gives them: '.' for a single file, else the POSIX path in
    the folder."""
    if artifact.is_file():
        return {".": artifact}
    files = {}
    for file in artifact.rglob("*"):
        name = PurePosixPath(file.relative_to(artifact).as_posix())
        if file.is_file() and not ignored.intersection(map(str, (name, *name.parents))):
            files[str(name)] = file
    return files


def differences(artifact: Path, signature: Path) -> list[dict]:
    """A row part per file whose digest differs from the one the signature's statement lists (hex; None where
    there is no file).

    The statement is read without being verified: it explains a failed verification and never passes one.
    Empty if it cannot be read or lists every file as it is now.
    """
    try:
        predicate = json.loads(
            base64.b64decode(json.loads(signature.read_text(encoding="utf-8"))["dsseEnvelope"]["payload"])
        )["predicate"]
        algorithm = predicate["serialization"]["hash_type"]
        signed = {item["name"]: item["digest"] for item in predicate["resources"]}
        current = {}
        for name, file in current_files(artifact, set(predicate["serialization"].get("ignore_paths", []))).items():
            with open(file, "rb") as handle:
                current[name] = hashlib.file_digest(handle, algorithm).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):  # unreadable statement or unknown hash: nothing to explain with
        return []
    rows = []
    for name in sorted(signed.keys() | current.keys()):
        expected, actual = signed.get(name), current.get(name)
        if expected != actual:
            file = (artifact / name).as_posix()
            detail = f"{file}: expected {algorithm} {expected or '(no file)'} found {actual or '(no file)'}"
            rows.append({"file": file, "expected": expected, "actual": actual, "detail": detail})
    return rows


def check(public_key: Path, signature_dir: Path, artifacts: dict[str, str]) -> list[dict]:
    """One row per artifact, OK or MISSING; a MISMATCH is one row per differing file, or one row for a bad signature."""
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
            bad = [{**row, **diff, "status": "MISMATCH"} for diff in differences(Path(path), signature)]
            rows += bad or [
                {**row, "status": "MISMATCH", "detail": f"bad signature: {' '.join(str(error).split())}"[:200]}
            ]
        else:
            rows.append({**row, "status": "OK", "detail": ""})
    return rows


def add_arguments(parser) -> None:
    """``nava-instruct sign``: what a publisher runs (README, "Auditing a model")."""
    parser.add_argument(
        "--key",
        type=Path,
        default=private_key_path(),
        help=f"PEM private key, created if missing (default: ${PRIVATE_KEY_ENV} or %(default)s)",
    )
    add_params_option(parser)


def main(args) -> int:
    paths = layout.paths(args.params)
    sign(args.key, Path(paths.public_key), Path(paths.signatures), signed_artifacts(paths))
    return 0
