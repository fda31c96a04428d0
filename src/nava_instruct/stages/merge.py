"""Stage ``merge``: fold the LoRA adapter into the base weights, for conversion and serving.

Inputs: the base folder of stage ``base`` and the adapter of stage ``train``. Output (``out_dir``):
a plain transformers folder (safetensors, config, tokenizer) and ``merge_info.json``.

- The base is loaded in float32 and the adapter merged into it with ``merge_and_unload``. A
  QLoRA adapter was trained against the nf4-quantized base, yet it is merged onto the same
  full-precision weights as a LoRA one (merging into 4-bit weights would round the update away);
  ``merge_info.json`` says so, because the merged model then differs slightly from the model the
  training loss was measured on.
- The adapter must have been trained on this very base: ``training_info.json`` holds the sha256
  of the base manifest it saw.
- When training used the ``instruction`` prompt format, the tokenizer gets the chat template of
  ``prompting.chat_template``: transformers' ``apply_chat_template`` and llama.cpp's chat endpoint
  (which reads the template from the GGUF file) then ask the model in the words it was trained
  on. A model trained on the ``chat_template`` format keeps the base's own template, which is the
  one it was trained with.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_dir, sha256_file, write_json
from nava_instruct.layout import BASE_MANIFEST, MERGE_INFO, TRAINING_INFO
from nava_instruct.lm.prompting import chat_template
from nava_instruct.params import StageParams

log = logging.getLogger(__name__)


class Params(StageParams):
    base_dir: str
    adapter_dir: str
    out_dir: str


def _read_json(path: Path, missing: str) -> dict:
    if not path.is_file():
        raise InputError(path, missing)
    return json.loads(path.read_text(encoding="utf-8"))


def run(params: Params) -> dict:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, adapter = Path(params.base_dir), Path(params.adapter_dir)
    manifest = _read_json(
        base / BASE_MANIFEST, "base model not found: run `nava-instruct base` (or `dvc repro base`) first"
    )
    training = _read_json(
        adapter / TRAINING_INFO, "adapter not found: run `nava-instruct train` (or `dvc repro train`) first"
    )
    base_sha = sha256_file(base / BASE_MANIFEST)
    if training["base"]["manifest_sha256"] != base_sha:
        raise InputError(
            adapter / TRAINING_INFO,
            f"the adapter was trained on another base than {base} (manifest sha256 differs)",
            field="base.manifest_sha256",
        )

    trust_remote_code = manifest["trust_remote_code"]
    log.info("merging %s adapter %s into float32 %s", training["method"], adapter, base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, trust_remote_code=trust_remote_code)
    model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=trust_remote_code)
    if training["prompt_format"] == "instruction":
        tokenizer.chat_template = chat_template(tokenizer)

    with atomic_dir(params.out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        info = {
            "base": {"dir": str(base), "manifest_sha256": base_sha},
            "adapter": {
                "dir": str(adapter),
                "files": {path.name: sha256_file(path) for path in sorted(adapter.iterdir()) if path.is_file()},
            },
            "method": training["method"],
            "adapter_trained_against": "nf4 (bitsandbytes 4-bit) base weights"
            if training["method"] == "qlora"
            else "float32 base weights",
            "merged_onto": "float32 base weights",
            "dtype": str(model.dtype).removeprefix("torch."),
            "chat_template": "prompting.chat_template (instruction format)"
            if training["prompt_format"] == "instruction"
            else "the base model's own",
            "files": {path.name: sha256_file(path) for path in sorted(tmp.iterdir()) if path.is_file()},
        }
        write_json(tmp / MERGE_INFO, info)
    log.info("wrote %s (%s adapter, merged onto %s)", params.out_dir, info["method"], info["merged_onto"])
    return info
