"""The CPU image (image/): stages run in it with no network, and it shares its install with Dockerfile.cuda.

The image is built when missing (`image/build`, about 6 minutes on 2 cores with pip's wheel cache warm); the tests that
run it skip, in one line, where podman cannot be installed (not root, or no apt-get).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GOLDEN, REPO, write_params_file, write_train_params
from nava_instruct.fileio import sha256_file
from nava_instruct.release import audit, rebuild

SHIM = REPO / rebuild.IMAGE_BIN / "nava-instruct"
MARKER = "# ---- From here to the end, Dockerfile.cuda and image/Containerfile are the same"


def shared_part(path) -> str:
    text = path.read_text()
    assert MARKER in text, f"{path.name}: no shared-part marker"
    return text[text.index(MARKER) :]


def test_cpu_and_cuda_images_share_their_install_environment_and_entry_point():
    assert shared_part(REPO / "Dockerfile.cuda") == shared_part(REPO / "image" / "Containerfile")
    dockerfile = (REPO / "Dockerfile.cuda").read_text()
    base = next(line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM "))
    assert f"ARG NAVA_BASE_IMAGE={base}\n" in dockerfile, "NAVA_BASE_IMAGE must name the FROM image"
    for script in ("build", "install", "bin/nava-instruct"):
        assert subprocess.run(["bash", "-n", str(REPO / "image" / script)]).returncode == 0, script


def image_ref(image: str) -> str | None:
    done = subprocess.run(["podman", "image", "inspect", "--format", "{{.Digest}}", image], capture_output=True)
    return f"{image}@{done.stdout.decode().strip()}" if done.returncode == 0 else None


@pytest.fixture(scope="module")
def image() -> str:
    """`name@digest` of the CPU image; installs podman (make image-tools) and builds the image if missing."""
    if not all(shutil.which(tool) for tool in ("podman", "mmdebstrap", "runc")):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip("podman, mmdebstrap or runc is missing and cannot be installed here (not root or no apt-get)")
        subprocess.run(["make", "image-tools"], cwd=REPO, check=True)
    name = subprocess.run(
        ["bash", "-c", "source image/common.sh && echo $IMAGE"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    os.environ["CONTAINERS_CONF"] = str(REPO / "image" / "containers.conf")
    if image_ref(name) is None:
        subprocess.run([str(REPO / "image" / "build")], check=True, timeout=3600)
    return image_ref(name)


@pytest.fixture
def checkout(tmp_path):
    """A scratch checkout for the image to mount: the code (the image runs /work/src) and nothing else."""
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return tmp_path


def test_generate_runs_in_the_image_offline_and_its_record_names_the_image(image, checkout, tmp_path_factory):
    write_params_file(checkout / "params.yaml", generate={"size": 30})
    done = subprocess.run(
        [str(SHIM), "generate", "--params", "params.yaml"], cwd=checkout, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((checkout / "provenance" / "generate.json").read_text())
    pins = hashlib.sha256((REPO / "image" / "debian-packages.txt").read_bytes()).hexdigest()
    assert record["container"]["image"] == image
    assert record["container"]["base_image"] == f"debian-bookworm-minbase@sha256:{pins}"

    # The same stage outside the image writes the same bytes.
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(checkout / "params.yaml", outside / "params.yaml")
    command = [sys.executable, "-m", "nava_instruct.cli", "generate", "--params", "params.yaml"]
    subprocess.run(command, cwd=outside, check=True, capture_output=True, timeout=300)
    examples = "data/generated/examples.jsonl"
    assert (checkout / examples).read_bytes() == (outside / examples).read_bytes()
    assert len((checkout / examples).read_text().splitlines()) == 30


def test_a_stage_that_reaches_for_the_network_in_the_image_fails_with_one_line(image, checkout):
    hub = {"source": "hub", "repo_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "revision": "0" * 40}
    write_params_file(checkout / "params.yaml", base=hub)
    done = subprocess.run(
        [str(SHIM), "base", "--params", "params.yaml"],
        cwd=checkout,
        env={**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and len(errors) == 1, done.stderr
    assert "cannot load base model" in errors[0] and "needs the network" in errors[0], errors[0]
    assert not (checkout / "models").exists()


def test_the_tiny_model_trains_to_the_golden_adapter_in_the_image(image, checkout, tiny_base, tiny_data, monkeypatch):
    """The numerics do not depend on the container: the portable profile gives the golden bytes there too."""
    shutil.copytree(tiny_base, checkout / "base")
    for path in tiny_data:
        shutil.copy(path, checkout / path.name)
    monkeypatch.chdir(checkout)  # paths relative to the checkout, which the image sees at /work
    data = (Path("train.jsonl"), Path("eval.jsonl"))
    write_train_params(Path("."), Path("base"), data, "portable", max_steps=12, eval_every=0, checkpoint_every=0)
    done = subprocess.run([str(SHIM), "train", "--params", "params.yaml"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    golden = json.loads(GOLDEN.read_text())["portable/x86-64-avx2"]["sha256"]
    assert sha256_file(checkout / "adapter" / "adapter_model.safetensors") == golden


def test_the_audit_rebuilds_a_commit_in_the_image_bit_for_bit(image, published, tmp_path):
    """The tiny pipeline was run outside the image; every stage of its rebuild runs inside, offline, to the same
    artifacts."""
    repo, head = published
    assert audit.run(str(repo), head, str(tmp_path / "report"), image=True) == 0
    report = json.loads((tmp_path / "report" / "audit.json").read_text())
    assert report["verdict"] == "REPRODUCED" and report["not_rebuilt"] == 0
    assert report["image"] == {"used": image, "recorded": None}  # the commit itself was built outside the image
    assert f"- Every stage ran in the image `{image}`" in (tmp_path / "report" / "audit.md").read_text()
