"""Stage ``convert``: the merged model as GGUF files for llama.cpp, in f16 and quantized.

Input: the merged transformers folder of stage ``merge``. Outputs in ``out_dir``:
``model-f16.gguf``, one ``model-<TYPE>.gguf`` per entry of ``quantizations`` and ``manifest.json``
(the sha256 and size of every file, the source and the tools). When ``base_dir`` is set, the base
model before fine-tuning is converted too (``base-f16.gguf``), so evaluation can compare the two
through the same llama.cpp.

- HF -> GGUF f16 is llama.cpp's own ``convert_hf_to_gguf.py``, run as a subprocess from
  ``converter_dir`` (by default ``llama.cpp/`` in the running virtual environment): the copy vendored in
  the llama-cpp-python sdist pinned in requirements.lock, which ``make setup`` fetches, checks against
  the lock's sha256 and unpacks with its ``conversion/`` package and its ``gguf-py``. PYTHONPATH points
  at that gguf-py, so the converter writes the GGUF version the bundled llama.cpp reads, whatever gguf PyPI installed.
- Quantization is ``llama_cpp.llama_model_quantize``, the library that later loads the files.
  Tensors whose rows do not fit a K-quant's 256-wide blocks fall back to a 32-wide type, as
  llama.cpp's quantize tool does (SmolLM2-135M's width, 576, is such a case, so most of its
  "Q4_K_M" tensors are Q5_0).
- The same merged folder gives byte-identical files: the model name written into the GGUF is a
  parameter, not the folder's name, and neither tool records a time.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field
from tqdm import tqdm

from nava_instruct.errors import InputError, RunError
from nava_instruct.fileio import atomic_dir, sha256_file, write_json
from nava_instruct.layout import BASE_GGUF, GGUF_MANIFEST, MERGE_INFO, model_gguf
from nava_instruct.params import StageParams

log = logging.getLogger(__name__)

CONVERTER = "convert_hf_to_gguf.py"
Quantization = Literal[
    "Q4_0",
    "Q4_1",
    "Q5_0",
    "Q5_1",
    "Q8_0",
    "Q2_K",
    "Q3_K_S",
    "Q3_K_M",
    "Q3_K_L",
    "Q4_K_S",
    "Q4_K_M",
    "Q5_K_S",
    "Q5_K_M",
    "Q6_K",
]


class Params(StageParams):
    merged_dir: str
    base_dir: str | None  # also convert this base model (base-f16.gguf), for evaluation; null: don't
    converter_dir: str | None = None  # None: llama.cpp/ in the virtual environment `make setup` filled
    out_dir: str
    model_name: str = Field(min_length=1)  # general.name in the GGUF metadata
    quantizations: list[Quantization]
    threads: int = Field(ge=0)  # quantization threads; 0: one per core


def converter_env(converter_dir: str | Path) -> dict[str, str]:
    """The environment the converter runs in: its own gguf-py first on the import path."""
    gguf_py = str(Path(converter_dir, "gguf-py").resolve())
    env = {key: value for key, value in os.environ.items() if key != "NO_LOCAL_GGUF"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [gguf_py, os.environ.get("PYTHONPATH")]))
    return env


def to_gguf_f16(model_dir: Path, out: Path, converter_dir: Path, model_name: str) -> None:
    """Run llama.cpp's converter; its log goes to debug, its last words into the error."""
    command = [
        sys.executable,
        str(converter_dir / CONVERTER),
        str(model_dir),
        "--outfile",
        str(out),
        "--outtype",
        "f16",
        "--model-name",
        model_name,
    ]
    done = subprocess.run(command, check=False, env=converter_env(converter_dir), capture_output=True, text=True)
    log.debug("%s", done.stderr)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RunError(f"{CONVERTER} failed on {model_dir} (exit status {done.returncode}): {last}")


def quantize(source: Path, out: Path, kind: str, threads: int) -> None:
    import llama_cpp

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's per-tensor report
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    params.nthread = threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), params) != 0:
        raise RunError(f"llama_model_quantize of {source} to {kind} failed")


def run(params: Params) -> dict:
    merged = Path(params.merged_dir)
    converter = Path(params.converter_dir) if params.converter_dir else Path(sys.prefix) / "llama.cpp"
    if not (merged / "config.json").is_file():
        raise InputError(merged, "merged model not found: run `nava-instruct merge` (or `dvc repro merge`) first")
    if not (converter / CONVERTER).is_file():
        raise InputError(converter, f"llama.cpp's {CONVERTER} not found: run `make setup`, which fetches it")

    with atomic_dir(params.out_dir) as tmp:
        log.info("converting %s to GGUF f16 with %s", merged, converter / CONVERTER)
        f16 = tmp / model_gguf("f16")
        to_gguf_f16(merged, f16, converter, params.model_name)
        for kind in tqdm(params.quantizations, desc="quantize", unit="file"):
            quantize(f16, tmp / model_gguf(kind), kind, params.threads)
        if params.base_dir:
            log.info("converting the base model %s to GGUF f16", params.base_dir)
            to_gguf_f16(Path(params.base_dir), tmp / BASE_GGUF, converter, params.model_name + "-base")
        files = {
            path.name: {"sha256": sha256_file(path), "bytes": path.stat().st_size}
            for path in sorted(tmp.glob("*.gguf"))
        }
        manifest = {
            "source": {
                "dir": str(merged),
                "merge_info_sha256": sha256_file(merged / MERGE_INFO) if (merged / MERGE_INFO).is_file() else None,
            },
            "converter": {
                "script_sha256": sha256_file(converter / CONVERTER),
                "llama-cpp-python": importlib.metadata.version("llama-cpp-python"),
            },
            "model_name": params.model_name,
            "files": files,
        }
        write_json(tmp / GGUF_MANIFEST, manifest)
    for name, file in files.items():
        log.info("wrote %s/%s (%.1f MiB)", params.out_dir, name, file["bytes"] / 2**20)
    return manifest
