"""Stage ``parity``: does llama.cpp run the GGUF files as transformers runs the merged model?

For a fixed sample of eval examples, each rendered into the training prompt, every GGUF file of
stage ``convert`` is compared with the merged model in float32:

- tokens: llama.cpp's tokenizer gives the ids of the HF tokenizer, for the prompt and for the
  reference response (exact);
- greedy: the share of prompts whose greedy continuation, up to ``max_new_tokens`` or the first
  EOS, has the same token ids (bounded for f16, where only a near-tie can flip a token; reported
  for quantized files, whose continuations drift apart after a few dozen tokens);
- logits: the log-softmax over the vocabulary at every prompt position. ``top1`` is the share of
  positions whose most likely next token agrees, ``max_abs_logprob_diff`` the largest difference
  of a log-probability, ``mean_kl`` the mean KL divergence KL(transformers || llama.cpp) in nats.

f16 is held to tight tolerances (weights rounded to 16 bits), quantized files to looser ones.
The figures go to ``metrics_file``; a file outside its tolerances fails the stage after they
are written. GGUF files are opened as the server opens them (``llamacpp.load``).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pydantic import Field
from tqdm import tqdm

from nava_instruct.errors import InputError, RunError
from nava_instruct.fileio import read_jsonl, write_json
from nava_instruct.lm import llamacpp
from nava_instruct.lm.prompting import prompt_ids, render
from nava_instruct.params import StageParams
from nava_instruct.records import FIELDS

log = logging.getLogger(__name__)


class Params(StageParams):
    merged_dir: str
    gguf_dir: str
    eval_file: str
    metrics_file: str
    prompts: int = Field(ge=1)  # eval examples, sampled with ``seed``
    seed: int
    max_new_tokens: int = Field(ge=1)
    f16_min_greedy_equal: float = Field(ge=0, le=1)  # share of prompts; one near-tie flips a whole continuation
    f16_min_top1: float = Field(ge=0, le=1)
    f16_max_abs_logprob_diff: float = Field(gt=0)  # over every position and token, the far tail included
    quantized_min_top1: float = Field(ge=0, le=1)
    quantized_max_mean_kl: float = Field(gt=0)


def log_softmax(logits: np.ndarray | torch.Tensor) -> np.ndarray:
    return torch.log_softmax(torch.as_tensor(logits, dtype=torch.float64), dim=-1).numpy()


@dataclass
class Reference:
    """What transformers makes of one example: the yardstick for every GGUF file."""

    prompt: str
    response: str
    prompt_ids: list[int]
    response_ids: list[int]
    logprobs: np.ndarray  # (prompt positions, vocabulary)
    greedy: list[int]


@torch.no_grad()
def reference(model, tokenizer, example: dict, max_new_tokens: int, stop_ids: list[int]) -> Reference:
    prompt, response = render(example, tokenizer)
    ids = prompt_ids(tokenizer, prompt)
    inputs = torch.tensor([ids])
    logits = model(inputs).logits[0]
    generated = model.generate(
        inputs,
        attention_mask=torch.ones_like(inputs),
        do_sample=False,
        max_new_tokens=max_new_tokens,
        eos_token_id=stop_ids,
        pad_token_id=stop_ids[0],
    )
    response_ids = tokenizer(response, add_special_tokens=False).input_ids
    return Reference(prompt, response, ids, response_ids, log_softmax(logits), generated[0, len(ids) :].tolist())


def greedy(llama, ids: list[int], max_new_tokens: int, stop_ids: list[int]) -> list[int]:
    """llama.cpp's own greedy sampler, stopped where transformers stops."""
    tokens = []
    for token in llama.generate(ids, temp=0.0, reset=True):
        tokens.append(token)
        if token in stop_ids or len(tokens) == max_new_tokens:
            break
    return tokens


@dataclass
class Tally:
    """A running comparison of one GGUF file with transformers."""

    prompts: int = 0
    tokens_equal: int = 0
    greedy_equal: int = 0
    positions: int = 0
    top1_equal: int = 0
    kl_sum: float = 0.0
    max_abs: float = 0.0

    def add(self, ref: Reference, llama, max_new_tokens: int, stop_ids: list[int]) -> None:
        ids = llamacpp.prompt_tokens(llama, ref.prompt)
        self.prompts += 1
        self.tokens_equal += ids == ref.prompt_ids and llamacpp.prompt_tokens(llama, ref.response) == ref.response_ids
        llama.reset()
        llama.eval(ref.prompt_ids)
        logprobs = log_softmax(llama.scores[: len(ref.prompt_ids)])
        if logprobs.shape != ref.logprobs.shape:
            raise InputError(
                llama.model_path, f"vocabulary of {logprobs.shape[1]} tokens, transformers has {ref.logprobs.shape[1]}"
            )
        self.positions += len(ref.prompt_ids)
        self.top1_equal += int((logprobs.argmax(-1) == ref.logprobs.argmax(-1)).sum())
        self.kl_sum += float((np.exp(ref.logprobs) * (ref.logprobs - logprobs)).sum())
        self.max_abs = max(self.max_abs, float(np.abs(logprobs - ref.logprobs).max()))
        self.greedy_equal += greedy(llama, ref.prompt_ids, max_new_tokens, stop_ids) == ref.greedy

    def summary(self) -> dict:
        return {
            "prompts": self.prompts,
            "tokens_equal": self.tokens_equal / self.prompts,
            "greedy_equal": self.greedy_equal / self.prompts,
            "top1": self.top1_equal / self.positions,
            "max_abs_logprob_diff": self.max_abs,
            "mean_kl": self.kl_sum / self.positions,
            "positions": self.positions,
        }


def failures(kind: str, figures: dict, params: Params) -> list[str]:
    """The checks a file fails, each as a short sentence."""
    if kind == "f16":
        checks = [
            ("tokens_equal", figures["tokens_equal"] == 1, "1"),
            (
                "greedy_equal",
                figures["greedy_equal"] >= params.f16_min_greedy_equal,
                f">= {params.f16_min_greedy_equal}",
            ),
            ("top1", figures["top1"] >= params.f16_min_top1, f">= {params.f16_min_top1}"),
            (
                "max_abs_logprob_diff",
                figures["max_abs_logprob_diff"] <= params.f16_max_abs_logprob_diff,
                f"<= {params.f16_max_abs_logprob_diff}",
            ),
        ]
    else:
        checks = [
            ("tokens_equal", figures["tokens_equal"] == 1, "1"),
            ("top1", figures["top1"] >= params.quantized_min_top1, f">= {params.quantized_min_top1}"),
            ("mean_kl", figures["mean_kl"] <= params.quantized_max_mean_kl, f"<= {params.quantized_max_mean_kl}"),
        ]
    return [f"{kind}: {name} is {figures[name]:.4g}, expected {bound}" for name, ok, bound in checks if not ok]


def run(params: Params) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    files = sorted(Path(params.gguf_dir).glob("model-*.gguf"))
    if not files:
        raise InputError(
            params.gguf_dir, "no model-*.gguf files: run `nava-instruct convert` (or `dvc repro convert`) first"
        )
    if not (Path(params.merged_dir) / "config.json").is_file():
        raise InputError(
            params.merged_dir, "merged model not found: run `nava-instruct merge` (or `dvc repro merge`) first"
        )
    records = [record for _, record in read_jsonl(params.eval_file, required=FIELDS)]
    examples = random.Random(params.seed).sample(records, min(params.prompts, len(records)))

    tokenizer = AutoTokenizer.from_pretrained(params.merged_dir)
    model = AutoModelForCausalLM.from_pretrained(params.merged_dir, dtype=torch.float32).eval()
    longest = (
        max(len(prompt_ids(tokenizer, render(example, tokenizer)[0])) for example in examples) + params.max_new_tokens
    )
    llamas = {path.stem.removeprefix("model-"): llamacpp.load(path, n_ctx=longest, logits_all=True) for path in files}
    eos = model.generation_config.eos_token_id
    stop_ids = sorted(
        {
            *(eos if isinstance(eos, list) else [] if eos is None else [eos]),
            *(llama.token_eos() for llama in llamas.values()),
        }
    )
    tallies = {kind: Tally() for kind in llamas}
    for example in tqdm(examples, desc="parity", unit="prompt"):
        ref = reference(model, tokenizer, example, params.max_new_tokens, stop_ids)
        for kind, llama in llamas.items():
            tallies[kind].add(ref, llama, params.max_new_tokens, stop_ids)

    figures = {kind: tally.summary() for kind, tally in tallies.items()}
    failed = [failure for kind, summary in figures.items() for failure in failures(kind, summary, params)]
    metrics = {**figures, "passed": not failed, "failures": failed}
    write_json(params.metrics_file, metrics)
    for kind, summary in figures.items():
        log.info(
            "%s: tokens %.3f, greedy %.3f, top-1 %.4f, max |dlogp| %.3g, mean KL %.3g",
            kind,
            summary["tokens_equal"],
            summary["greedy_equal"],
            summary["top1"],
            summary["max_abs_logprob_diff"],
            summary["mean_kl"],
        )
    if failed:
        raise RunError(f"parity outside tolerance (details in {params.metrics_file}): " + "; ".join(failed))
    return metrics
