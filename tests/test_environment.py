"""The pinned environments: the Python locks, Dockerfile.cuda (hadolint), the Nix flake, stage deps.

The Nix checks run offline with Debian's nix-bin (`make test` installs it): flake.nix must parse, flake.lock
must lock every input by rev and narHash, and `nix flake check --no-build` must pass with nixpkgs replaced
by the evaluation-only stand-in in tests/nix-stub (no download, no build).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

BIN = Path(sys.executable).parent
SYSTEM = "x86_64-linux"
LOCKS = ["requirements.lock", "requirements-cuda.lock", "requirements-nodeps.lock"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a pip-compile lock with hashes."""
    found, name = {}, None
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            name = match.group(1).lower()
            found[name] = (match.group(2), frozenset())
        elif name and (hashes := re.findall(r"--hash=sha256:([0-9a-f]{64})", line)):
            found[name] = (found[name][0], found[name][1] | set(hashes))
        elif line and not line.startswith(" "):
            name = None
    return found


# --- Python locks -------------------------------------------------------------------------------


def test_every_locked_package_is_pinned_with_a_hash():
    for lock in LOCKS:
        locked = pins(REPO / lock)
        assert locked, lock
        unhashed = sorted(name for name, (_, hashes) in locked.items() if not hashes)
        assert not unhashed, f"{lock}: no --hash for {unhashed}"


def test_requirements_in_is_locked():
    locked = pins(REPO / "requirements.lock")
    for line in (REPO / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[\[=<>~! ]", line, maxsplit=1)[0].lower()
            assert name in locked, f"{name} is in requirements.in but not in requirements.lock (run `make lock`)"


def test_cuda_lock_is_the_cpu_lock_with_the_cuda_build_of_torch():
    cpu, cuda = pins(REPO / "requirements.lock"), pins(REPO / "requirements-cuda.lock")
    cpu_torch, cuda_torch = cpu["torch"][0], cuda["torch"][0]
    assert cpu_torch.endswith("+cpu") and cuda_torch == cpu_torch.removesuffix("+cpu")
    for name, pinned in cpu.items():
        if name != "torch":
            assert cuda.get(name) == pinned, f"{name}: requirements-cuda.lock differs from requirements.lock"
    extra = sorted(set(cuda) - set(cpu))
    assert extra and all(re.match(r"(nvidia-|cuda-|triton$)", name) for name in extra), extra


def test_every_install_goes_through_the_locks_with_hashes():
    makefile = (REPO / "Makefile").read_text()
    assert "--require-hashes --no-deps -r $(PY_LOCK)" in makefile
    assert "--require-hashes --no-deps -r requirements-nodeps.lock" in makefile
    assert re.search(r"^PY_LOCK \?= requirements\.lock$", makefile, re.M)
    assert re.search(r"^test: .*\bsetup\b", makefile, re.M)
    assert "make test" in (REPO / ".ci" / "run").read_text()
    # Both images install through image/install, which runs `make setup` with the lock each names.
    dockerfile, install = (REPO / "Dockerfile.cuda").read_text(), (REPO / "image" / "install").read_text()
    assert re.search(r"^ARG PY_LOCK=requirements-cuda\.lock$", dockerfile, re.M)
    assert re.search(r"^ARG PY_LOCK=requirements\.lock$", (REPO / "image" / "Containerfile").read_text(), re.M)
    assert 'make setup VENV=/opt/venv PY_LOCK="$PY_LOCK"' in install
    for text in (dockerfile, install):
        assert not re.search(r"pip3? install(?!.*--require-hashes)", text), "a pip install outside the lock"


# --- Dockerfile.cuda ----------------------------------------------------------------------------

HADOLINT_IGNORES = {"DL3008", "DL3064"}  # justified in the comments above each pragma


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_dockerfile_is_hadolint_clean():
    done = hadolint(REPO / "Dockerfile.cuda")
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    lines = (REPO / "Dockerfile.cuda").read_text().splitlines()
    for number, line in enumerate(lines):
        if match := re.match(r"#\s*hadolint ignore=(\S+)", line):
            rules = set(match.group(1).split(","))
            assert rules <= HADOLINT_IGNORES, (
                f"line {number + 1}: unreviewed hadolint ignore {rules - HADOLINT_IGNORES}"
            )
            assert lines[number - 1].startswith("#"), f"line {number + 1}: say why above the pragma"


def test_hadolint_does_flag_problems(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu:latest\nRUN apt-get install curl\nENTRYPOINT nava-instruct\n")
    done = hadolint(bad)
    assert done.returncode != 0
    assert {"DL3007", "DL3015", "DL3025"} <= set(re.findall(r"DL\d{4}", done.stdout)), done.stdout


def external_froms(dockerfile: str) -> list[str]:
    stages, images = set(), []
    for line in dockerfile.splitlines():
        if match := re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, re.I):
            image, alias = match.groups()
            if image.lower() not in stages and image != "scratch":
                images.append(image)
            if alias:
                stages.add(alias.lower())
    return images


def test_every_external_base_image_is_pinned_by_digest():
    images = external_froms((REPO / "Dockerfile.cuda").read_text())
    assert images
    for image in images:
        assert re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", image), f"{image} is not pinned by digest"
    assert images[0].startswith("nvidia/cuda:")


def test_dockerfile_runtime_settings():
    text = (REPO / "Dockerfile.cuda").read_text()
    env = dict(re.findall(r"\b([A-Z_]+)=(\S+?)\s*\\?$", text, re.M))
    assert env.get("PYTHONHASHSEED") == "0"
    assert "CUBLAS_WORKSPACE_CONFIG" not in env  # train sets it on CUDA; image-wide, it would enter CPU records
    assert env.get("HF_HUB_OFFLINE") == "1"
    assert env.get("TOKENIZERS_PARALLELISM") == "false"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert re.findall(r"^ENTRYPOINT\s+(.+)$", text, re.M)[-1].strip() == '["nava-instruct"]'


# --- Nix ----------------------------------------------------------------------------------------


def nix_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} not found: `make test` installs Debian's nix-bin (make nix-tools)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def nix_env(tmp_path_factory) -> dict[str, str]:
    """Nix with no user or system configuration, its own store and cache, and the network switched off."""
    root = tmp_path_factory.mktemp("nix")
    (root / "conf").mkdir()
    (root / "conf" / "nix.conf").write_text(
        "experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\nsandbox = false\n"
    )
    return {
        **os.environ,
        "NIX_CONF_DIR": str(root / "conf"),
        "NIX_USER_CONF_FILES": str(root / "conf" / "nix.conf"),
        "NAVA_TEST_NIX_STORE": str(root / "store"),  # read by nix() below, not by Nix
        "XDG_CACHE_HOME": str(root / "cache"),
        "HOME": str(root),
    }


def nix(env: dict[str, str], flake_dir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        nix_tool("nix"),
        "--store",
        env["NAVA_TEST_NIX_STORE"],
        "--offline",
        *args,
        "--override-input",
        "nixpkgs",
        f"path:{REPO / 'tests' / 'nix-stub'}",
    ]
    return subprocess.run(command, cwd=flake_dir, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def flake_copy(tmp_path) -> Path:
    """flake.nix and flake.lock alone (the flake reads no other file), so Nix copies nothing else."""
    for name in ("flake.nix", "flake.lock"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def nix_instantiate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [nix_tool("nix-instantiate"), "--store", env["NAVA_TEST_NIX_STORE"], *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_nix_files_parse(nix_env):
    for path in [REPO / "flake.nix", *sorted((REPO / "tests" / "nix-stub").glob("*.nix"))]:
        done = nix_instantiate(nix_env, "--parse", str(path))
        assert done.returncode == 0, f"{path}: {done.stderr}"


def test_flake_lock_pins_every_input_by_rev_and_narhash(nix_env):
    done = nix_instantiate(nix_env, "--eval", "--strict", "--json", "-E", f"(import {REPO / 'flake.nix'}).inputs")
    assert done.returncode == 0, done.stderr
    inputs = json.loads(done.stdout)
    lock = json.loads((REPO / "flake.lock").read_text())
    assert lock["version"] == 7
    root = lock["nodes"][lock["root"]]
    assert set(root["inputs"]) == set(inputs), "flake.lock's inputs are not flake.nix's (run `nix flake lock`)"
    for name, spec in inputs.items():
        node = lock["nodes"][root["inputs"][name]]
        locked, original = node["locked"], node["original"]
        assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"]), locked
        assert locked["narHash"].startswith("sha256-") and len(base64.b64decode(locked["narHash"][7:])) == 32
        assert isinstance(locked["lastModified"], int) and locked["lastModified"] > 1_500_000_000
        kind, _, path = spec["url"].partition(":")
        owner, repo, *ref = path.split("/")
        assert original == {"type": kind, "owner": owner, "repo": repo, **({"ref": ref[0]} if ref else {})}, (
            name,
            original,
        )
        assert (locked["type"], locked["owner"], locked["repo"]) == (kind, owner, repo)


def test_flake_check_against_the_nixpkgs_stub(nix_env, flake_copy):
    done = nix(nix_env, flake_copy, "flake", "check", "--no-build", f"path:{flake_copy}")
    assert done.returncode == 0, done.stderr


def eval_json(nix_env, flake_copy, attribute: str):
    done = nix(nix_env, flake_copy, "eval", "--json", f"path:{flake_copy}#{attribute}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_flake_outputs(nix_env, flake_copy, tmp_path):
    # `nix flake check` of this Nix does not look into apps: check them here.
    apps = eval_json(nix_env, flake_copy, f"apps.{SYSTEM}")
    packages = {
        name: eval_json(nix_env, flake_copy, f"packages.{SYSTEM}.{name}.outPath") for name in ("repro", "repro-cuda")
    }
    for name in ("repro", "repro-cuda"):
        assert apps[name]["type"] == "app"
        assert apps[name]["program"] == f"{packages[name]}/bin/nava-repro"
    assert apps["default"] == apps["repro"]

    image = f"packages.{SYSTEM}.oci-image"
    assert eval_json(nix_env, flake_copy, f"{image}.created") == "1970-01-01T00:00:01Z"
    config = json.loads(eval_json(nix_env, flake_copy, f"{image}.config"))
    assert config["Entrypoint"] == [apps["repro"]["program"]] and config["User"] == "1000:1000"
    assert {"PYTHONHASHSEED=0", "HF_HUB_OFFLINE=1", "CUBLAS_WORKSPACE_CONFIG=:4096:8"} <= set(config["Env"])

    shells = {
        name: json.loads(eval_json(nix_env, flake_copy, f"devShells.{SYSTEM}.{name}.env"))
        for name in ("default", "cuda")
    }
    assert "PY_LOCK=requirements.lock" in shells["default"]["MAKEFLAGS"]
    assert "PY_LOCK=requirements-cuda.lock" in shells["cuda"]["MAKEFLAGS"]
    assert shells["cuda"]["LD_LIBRARY_PATH"].startswith("/run/opengl-driver/lib:")

    # The app's script: valid bash, and outside a checkout it stops with a message before touching anything.
    done = nix(nix_env, flake_copy, "eval", "--raw", f"path:{flake_copy}#packages.{SYSTEM}.repro.script")
    assert done.returncode == 0, done.stderr
    script = tmp_path / "nava-repro"
    script.write_text(done.stdout)
    assert "PY_LOCK=requirements.lock repro" in done.stdout and "VENV=.venv-nix " in done.stdout
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run(["bash", str(script)], cwd=elsewhere, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "run it from a nava-instruct checkout" in run.stderr


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (('created = "1970-01-01T00:00:01Z";', 'created = "now";'), "build time"),
        (('"cuda_nvcc" ', ""), "unfree license"),
    ],
    ids=["image-stamped-now", "cuda-package-not-allowed"],
)
def test_flake_check_fails_on_a_broken_flake(nix_env, flake_copy, change, error):
    text = (flake_copy / "flake.nix").read_text()
    assert change[0] in text
    (flake_copy / "flake.nix").write_text(text.replace(change[0], change[1], 1))
    done = nix(nix_env, flake_copy, "flake", "check", "--no-build", f"path:{flake_copy}")
    assert done.returncode != 0 and error in done.stderr, done.stderr


# --- DVC stages ---------------------------------------------------------------------------------


def test_python_stages_depend_on_the_environment_locks():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        commands = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
        if any(re.match(r"(nava-instruct|python3?|dvc|pytest)\b", command.strip()) for command in commands):
            missing = [lock for lock in LOCKS if lock not in stage.get("deps", [])]
            assert not missing, f"stage {name}: add {missing} to its deps (the environment can change its outputs)"
