"""Shared test fixtures: the numerics profile the tests compute under, and the tiny models and data, built once
per session (their helpers are in helpers.py)."""

from pathlib import Path

import pytest

from helpers import (
    TINY_CHAT_TEMPLATE,
    convert_params,
    publish_tiny_pipeline,
    random_adapter,
    save_tiny_llama,
    save_tiny_smol_llama,
    stage_params,
    tiny_examples,
)
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


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


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


@pytest.fixture(scope="session")
def published(tiny_smol_model, tmp_path_factory) -> tuple[Path, str]:
    """A repository whose HEAD holds the dvc.lock of a full tiny pipeline run, and that commit (audits rebuild it)."""
    repo = tmp_path_factory.mktemp("audited") / "repo"
    return repo, publish_tiny_pipeline(repo, tiny_smol_model)
