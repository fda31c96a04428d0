"""Stage ``convert``: llama.cpp's vendored converter, quantization, reproducibility, bad input."""

import json
import shutil
import subprocess
import sys

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from transformers import AutoTokenizer

from helpers import CONVERTER, convert_params, tiny_examples, write_params_file
from nava_instruct import layout
from nava_instruct.cli import main
from nava_instruct.fileio import sha256_file
from nava_instruct.lm import llamacpp
from nava_instruct.lm.prompting import chat_template, render
from nava_instruct.stages import convert

KINDS = ("f16", "Q4_K_M", "Q8_0")


def test_writes_f16_and_quantized_files_with_a_manifest(tiny_smol_stages):
    gguf = tiny_smol_stages / "gguf"
    manifest = json.loads((gguf / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted([layout.BASE_GGUF, *(layout.model_gguf(kind) for kind in KINDS)])
    for name, file in manifest["files"].items():
        assert sha256_file(gguf / name) == file["sha256"]
    for kind in KINDS:  # llama.cpp's LLAMA_FTYPE numbers
        llama = llamacpp.load(gguf / layout.model_gguf(kind), n_ctx=16)
        assert llama.metadata["general.file_type"] == {"f16": "1", "Q8_0": "7", "Q4_K_M": "15"}[kind]
    sizes = [manifest["files"][layout.model_gguf(kind)]["bytes"] for kind in ("f16", "Q8_0", "Q4_K_M")]
    assert sizes == sorted(sizes, reverse=True)
    assert manifest["source"]["merge_info_sha256"] == sha256_file(tiny_smol_stages / "merged" / "merge_info.json")


def test_gguf_carries_name_tokenizer_and_training_chat_template(tiny_smol_stages):
    llama = llamacpp.load(tiny_smol_stages / "gguf" / "model-Q8_0.gguf", n_ctx=16)
    tokenizer = AutoTokenizer.from_pretrained(tiny_smol_stages / "merged")
    assert llama.metadata["general.name"] == "nava-instruct"
    assert llama.metadata["tokenizer.ggml.pre"] == "smollm"
    assert llama.metadata["tokenizer.chat_template"] == chat_template(tokenizer)
    eos = tokenizer.eos_token
    formatter = Jinja2ChatFormatter(
        llama.metadata["tokenizer.chat_template"], eos_token=eos, bos_token=tokenizer.bos_token
    )
    for example in tiny_examples(3):
        messages = [{"role": "user", "content": example["instruction"], "input": example["input"]}]
        assert formatter(messages=messages).prompt == render(example, tokenizer)[0]


def test_same_input_gives_byte_identical_files(tiny_smol_stages, tmp_path):
    """Also from another folder: nothing of the path (the converter's default model name) gets in."""
    shutil.copytree(tiny_smol_stages / "merged", tmp_path / "elsewhere")
    shutil.copytree(tiny_smol_stages / "base", tmp_path / "base-elsewhere")
    again = convert.run(convert_params(tmp_path / "elsewhere", tmp_path / "base-elsewhere", tmp_path / "gguf"))
    first = json.loads((tiny_smol_stages / "gguf" / "manifest.json").read_text())
    assert {name: file["sha256"] for name, file in again["files"].items()} == {
        name: file["sha256"] for name, file in first["files"].items()
    }


def test_converter_runs_with_its_vendored_gguf_py():
    done = subprocess.run(
        [sys.executable, "-c", "import gguf; print(gguf.__file__)"],
        env=convert.converter_env(CONVERTER),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str((CONVERTER / "gguf-py" / "gguf" / "__init__.py").resolve())


@pytest.mark.parametrize(
    "section, message",
    [
        ({"converter_dir": "nowhere"}, "convert_hf_to_gguf.py not found: run `make setup`"),
        ({"merged_dir": "nowhere"}, "merged model not found"),
        ({"quantizations": ["Q4_K_X"]}, "convert.quantizations.0"),
        ({"merged_dir": "BASE"}, "convert_hf_to_gguf.py failed"),  # a tokenizer the converter does not know
    ],
)
def test_bad_inputs_fail_in_one_line(tiny_smol_stages, tiny_base, tmp_path, capsys, section, message):
    section = {
        "merged_dir": str(tiny_smol_stages / "merged"),
        "converter_dir": str(CONVERTER),
        "out_dir": str(tmp_path / "gguf"),
    } | section
    section["merged_dir"] = section["merged_dir"].replace("BASE", str(tiny_base))
    write_params_file(tmp_path / "params.yaml", convert={"base_dir": None, **section})
    assert main(["convert", "--params", str(tmp_path / "params.yaml")]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and message in error
    assert not (tmp_path / "gguf").exists()
