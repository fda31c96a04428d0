"""DVC remote storage with the repository's own remote settings (.dvc/config).

In a scratch DVC repository holding a text file and a small binary "model" directory: push, wipe the
cache and the outputs, pull, and get byte-identical files back, from a local directory remote and from
an S3-compatible server (moto, on 127.0.0.1 only). A remote object whose bytes were overwritten makes
`dvc pull` exit non-zero naming the output, and leaves the workspace as it was.
"""

import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from configobj import ConfigObj

from helpers import REPO

BIN = Path(sys.executable).parent
MODEL = Path("models") / "tiny" / "model.bin"
OUTPUTS = [Path("data") / "notes.txt", MODEL, Path("models") / "tiny" / "config.json"]


def repo_remote() -> tuple[str, dict[str, str]]:
    """The default remote of the repository: its name and its settings."""
    config = ConfigObj(str(REPO / ".dvc" / "config"))
    name = config["core"]["remote"]
    return name, dict(config[f'remote "{name}"'])


def remote_options() -> dict[str, str]:
    """The repository's default-remote settings other than where it is: applied to every scratch remote."""
    return {key: value for key, value in repo_remote()[1].items() if key != "url"}


class Scratch:
    """A scratch DVC repository (no git) with a private DVC config, cache and site cache."""

    def __init__(self, root: Path, env: dict[str, str] | None = None):
        self.root = root / "repo"
        self.root.mkdir()
        for name in ("global", "system", "site"):
            (root / name).mkdir()
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "DVC_NO_ANALYTICS": "1",
            "DVC_GLOBAL_CONFIG_DIR": str(root / "global"),
            "DVC_SYSTEM_CONFIG_DIR": str(root / "system"),
            "DVC_SITE_CACHE_DIR": str(root / "site"),
            **(env or {}),
        }
        self.dvc("init", "--no-scm", "-q")

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / "dvc"), *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120
        )
        if check:
            assert done.returncode == 0, f"dvc {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def set_remote(self, url: str, **extra: str) -> None:
        """The only remote, the default one: `url`, with the repository's remote settings (and `extra`)."""
        config = ConfigObj(str(self.root / ".dvc" / "config"))
        config["core"] = {**config.get("core", {}), "remote": "storage"}
        config['remote "storage"'] = {"url": url, **remote_options(), **extra}
        config.write()

    def make_outputs(self) -> dict[Path, bytes]:
        rng = random.Random(1234)
        contents = {
            OUTPUTS[0]: "NAVA notes\nline two, no trailing newline".encode(),
            MODEL: b"GGUF" + rng.randbytes(192 * 1024),  # a small binary "model"
            OUTPUTS[2]: b'{"hidden_size": 32, "num_hidden_layers": 2}\n',
        }
        for path, data in contents.items():
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).write_bytes(data)
        self.dvc("add", "-q", "data/notes.txt", "models/tiny")
        return contents

    def wipe(self) -> None:
        """Drop the cache and every tracked output, as in a fresh clone."""
        shutil.rmtree(self.root / ".dvc" / "cache", ignore_errors=True)
        (self.root / OUTPUTS[0]).unlink(missing_ok=True)
        shutil.rmtree(self.root / "models" / "tiny", ignore_errors=True)

    def read(self, path: Path) -> bytes | None:
        return (self.root / path).read_bytes() if (self.root / path).exists() else None


def object_key(data: bytes) -> str:
    """Where DVC 3 stores an object, relative to the remote's root."""
    digest = hashlib.md5(data).hexdigest()
    return f"files/md5/{digest[:2]}/{digest[2:]}"


def corrupt(data: bytes) -> bytes:
    """The same length, some bytes in the middle overwritten."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


def assert_pull_refused(scratch: Scratch, contents: dict[Path, bytes]) -> None:
    """With the model object corrupted on the remote and no cache: pull fails, the workspace stays."""
    # No model in the workspace: the pull fails and does not write the corrupted bytes.
    scratch.wipe()
    done = scratch.dvc("pull", check=False)
    assert done.returncode != 0, done.stdout + done.stderr
    message = done.stdout + done.stderr
    assert "failed to pull" in message and "models/tiny" in message, message
    assert scratch.read(MODEL) is None
    assert scratch.read(OUTPUTS[0]) == contents[OUTPUTS[0]]  # the intact object still arrives
    cached = scratch.root / ".dvc" / "cache" / object_key(contents[MODEL])
    assert not cached.exists() or cached.read_bytes() == contents[MODEL]

    # A model already in the workspace (here edited locally) is left alone.
    shutil.rmtree(scratch.root / ".dvc" / "cache")
    (scratch.root / MODEL).parent.mkdir(parents=True, exist_ok=True)
    (scratch.root / MODEL).write_bytes(b"my local edit")
    done = scratch.dvc("pull", check=False)
    assert done.returncode != 0, done.stdout + done.stderr
    assert scratch.read(MODEL) == b"my local edit"


def test_repo_default_remote_is_a_verified_local_directory_outside_the_checkout():
    name, settings = repo_remote()
    assert settings.get("verify") == "true"
    url = settings["url"]
    assert "://" not in url, url
    where = (REPO / ".dvc" / url).resolve()
    assert REPO.resolve() not in [where, *where.parents], f"remote {name} at {where} is inside the checkout"


def test_local_remote_round_trip_and_corruption(tmp_path):
    scratch = Scratch(tmp_path)
    remote = tmp_path / "remote"
    scratch.set_remote(str(remote))
    contents = scratch.make_outputs()
    scratch.dvc("push", "-q")
    assert (remote / object_key(contents[MODEL])).read_bytes() == contents[MODEL]

    scratch.wipe()
    assert all(scratch.read(path) is None for path in contents)
    scratch.dvc("pull", "-q")
    for path, data in contents.items():
        assert scratch.read(path) == data, path

    stored = remote / object_key(contents[MODEL])
    stored.chmod(0o644)  # DVC leaves pushed objects read-only
    stored.write_bytes(corrupt(contents[MODEL]))
    assert_pull_refused(scratch, contents)


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 on 127.0.0.1, a free port, with dummy credentials that reach nothing else."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, tmp_path):
    import boto3

    empty = tmp_path / "aws-empty"
    empty.write_text("")
    env = {
        "AWS_ACCESS_KEY_ID": "nava-test",
        "AWS_SECRET_ACCESS_KEY": "nava-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="nava-test",
        aws_secret_access_key="nava-test",
        region_name="us-east-1",
    )
    bucket = f"nava-{tmp_path.name.lower().replace('_', '-')}"[:63]
    client.create_bucket(Bucket=bucket)
    return client, bucket, env


def test_s3_remote_round_trip_and_corruption(s3, s3_server, tmp_path):
    client, bucket, env = s3
    scratch = Scratch(tmp_path, env)
    scratch.set_remote(f"s3://{bucket}/dvc-store", endpointurl=s3_server)
    contents = scratch.make_outputs()
    scratch.dvc("push", "-q")
    key = f"dvc-store/{object_key(contents[MODEL])}"
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == contents[MODEL]

    scratch.wipe()
    scratch.dvc("pull", "-q")
    for path, data in contents.items():
        assert scratch.read(path) == data, path

    client.put_object(Bucket=bucket, Key=key, Body=corrupt(contents[MODEL]))
    assert_pull_refused(scratch, contents)


def test_s3_without_verify_would_let_the_corruption_through(s3, s3_server, tmp_path):
    """Why .dvc/config sets verify: without it, DVC trusts an S3 object's name and checks out bad bytes."""
    client, bucket, env = s3
    scratch = Scratch(tmp_path, env)
    scratch.set_remote(f"s3://{bucket}/dvc-store", endpointurl=s3_server, verify="false")
    contents = scratch.make_outputs()
    scratch.dvc("push", "-q")
    client.put_object(Bucket=bucket, Key=f"dvc-store/{object_key(contents[MODEL])}", Body=corrupt(contents[MODEL]))
    scratch.wipe()
    scratch.dvc("pull", "-q")
    assert scratch.read(MODEL) == corrupt(contents[MODEL])


def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_unreachable_remote_fails_loudly_and_leaves_the_workspace(s3, tmp_path, kind):
    _, bucket, env = s3
    scratch = Scratch(tmp_path, {**env, "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"})
    if kind == "local":
        scratch.set_remote(str(tmp_path / "unmounted-disk" / "dvc-store"))
    else:
        scratch.set_remote(f"s3://{bucket}/dvc-store", endpointurl=f"http://127.0.0.1:{closed_port()}")
    contents = scratch.make_outputs()
    shutil.rmtree(scratch.root / ".dvc" / "cache")
    (scratch.root / MODEL).write_bytes(b"my local edit")

    done = scratch.dvc("pull", check=False)
    message = done.stdout + done.stderr
    assert done.returncode != 0, message
    assert "ERROR" in message and ("failed to pull" in message or "unable to" in message.lower()), message
    assert scratch.read(MODEL) == b"my local edit"
    assert scratch.read(OUTPUTS[0]) == contents[OUTPUTS[0]]
