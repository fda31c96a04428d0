"""Stage ``evaluate``: how well does each model write and explain NAVA?

A fixed, stratified sample of eval prompts is answered greedily (stop at EOS, with a token cap)
by every backend: the base model before fine-tuning, the fine-tuned GGUF in f16 and in each
quantization, the GGUF with NAVA grammar-constrained decoding, and, on a subset, the merged
transformers model (for HF↔GGUF parity). Answers are graded with the NAVA toolkit
(``scoring``): code by parse, check and spec-match rates, explanations by fact recall.

With ``checker_loop`` on, a GGUF backend answers the code families through the checker loop
(``lm.checked``, as ``nava-instruct serve`` does): a greedy answer that the checker rejects is
tried again, up to ``max_attempts``. Each sample records its attempts and whether its first
answer checked; each code section of the metrics has ``first_check_rate`` (the greedy answers)
next to ``check_rate`` (the answers kept).

Loss and perplexity on the whole eval split (response tokens only), before and after
fine-tuning, are measured once by stage ``train`` and carried into this stage's metrics.

Outputs: a samples file (prompt, reference, answer, verdicts), the metrics in DVCLive's folder
``metrics_dir`` (metrics.json, a DVC metric, so ``dvc metrics diff`` compares runs; rewritten as
each backend is graded, so ``dvc exp show`` follows the run) and PNG bar charts by backend, family
and manifold.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Literal

from dvclive import Live
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from nava_instruct import nava
from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_path, read_jsonl, write_jsonl
from nava_instruct.layout import BASE_GGUF, EVAL_META, LIVE_SUMMARY, model_gguf
from nava_instruct.lm import checked, prompting
from nava_instruct.nava import scoring
from nava_instruct.params import StageParams
from nava_instruct.records import FAMILIES, FIELDS

log = logging.getLogger(__name__)

CODE_FAMILIES = ("prompt_to_code", "fix", "edit")


class Backend(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["gguf", "hf"]
    path: str  # a GGUF file, or a transformers folder
    tokenizer: str  # the transformers folder whose tokenizer renders the prompts
    prompt_format: prompting.PromptFormat = "instruction"  # the base model is asked in its own chat format
    grammar: bool = False  # constrain code answers with the NAVA GBNF grammar
    limit: int | None = Field(None, ge=1)  # answer only the first N sampled prompts


class Params(StageParams):
    eval_file: str
    meta_dir: str  # stage split's metadata folder
    base_dir: str
    merged_dir: str
    gguf_dir: str
    quantizations: list[str] = Field(min_length=1)  # stage convert's; the first is the served one
    train_metrics: str  # stage train's DVCLive folder
    samples_out: str
    metrics_dir: str  # this stage's DVCLive folder
    plots_dir: str
    seed: int
    prompts_per_family: dict[Literal[FAMILIES], int]
    max_new_tokens: int = Field(ge=1)
    context: int = Field(2048, ge=256)
    threads: int = Field(ge=1)
    checker_loop: checked.Mode  # for the code families of GGUF backends; "off": one greedy answer
    max_attempts: int = Field(ge=1)
    backends: list[Backend] | None = None  # None: those of the converted models (``default_backends``)


def default_backends(params: Params) -> list[Backend]:
    """The base model, the fine-tuned model in f16 and every quantization convert wrote, the served one also
    under the NAVA grammar, and the merged transformers model. The slow or secondary ones answer a prefix only."""
    gguf, merged = Path(params.gguf_dir), params.merged_dir
    served, *others = params.quantizations
    return [
        Backend(
            name="base",
            kind="gguf",
            path=str(gguf / BASE_GGUF),
            tokenizer=params.base_dir,
            prompt_format="chat_template",
            limit=8,
        ),
        Backend(name="f16", kind="gguf", path=str(gguf / model_gguf("f16")), tokenizer=merged),
        *(
            Backend(name=kind, kind="gguf", path=str(gguf / model_gguf(kind)), tokenizer=merged, limit=12)
            for kind in others
        ),
        Backend(name=served, kind="gguf", path=str(gguf / model_gguf(served)), tokenizer=merged),
        Backend(
            name=f"{served}+grammar",
            kind="gguf",
            path=str(gguf / model_gguf(served)),
            tokenizer=merged,
            grammar=True,
            limit=14,
        ),
        Backend(name="merged-hf", kind="hf", path=merged, tokenizer=merged, limit=3),
    ]


def sample_prompts(params: Params) -> list[dict]:
    """The eval examples to answer: a seeded sample per family, interleaved so any prefix is mixed."""
    rows = read_jsonl(params.eval_file, required=FIELDS)
    meta_file = Path(params.meta_dir) / EVAL_META
    meta = read_jsonl(meta_file, required=("id", "family", "manifold", "level"))
    if len(rows) != len(meta):
        raise InputError(meta_file, f"{len(meta)} metadata lines for {len(rows)} eval examples in {params.eval_file}")
    by_family = defaultdict(list)
    for (_, example), (_, info) in zip(rows, meta):
        by_family[info["family"]].append({**example, **info})
    rng = random.Random(params.seed)
    chosen = {
        family: rng.sample(by_family[family], min(count, len(by_family[family])))
        for family, count in params.prompts_per_family.items()
    }
    mixed = sorted(
        (
            (index / len(examples), family, example)
            for family, examples in chosen.items()
            for index, example in enumerate(examples)
        ),
        key=lambda item: (item[0], FAMILIES.index(item[1])),
    )
    if not mixed:
        raise InputError(params.eval_file, "no eval examples of the families asked for in prompts_per_family")
    return [example for _, _, example in mixed]


class GgufModel:
    """A GGUF file answered through llama.cpp; prompts arrive as token ids, so nothing is re-tokenized."""

    def __init__(self, backend: Backend, params: Params):
        from llama_cpp import LlamaGrammar

        from nava_instruct.lm import llamacpp

        self.llm = llamacpp.load(backend.path, n_ctx=params.context, n_threads=params.threads, seed=params.seed)
        self.grammar = LlamaGrammar.from_string(nava.gbnf_grammar(), verbose=False) if backend.grammar else None
        self.policy = checked.Policy(mode=params.checker_loop, max_attempts=params.max_attempts, seed=params.seed)

    def complete(self, prompt_ids: list[int], max_tokens: int, code: bool, temperature: float = 0.0, seed=None):
        """One completion: (text, completion tokens, stopped at EOS)."""
        self.llm.reset()
        out = self.llm.create_completion(
            prompt_ids,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            grammar=self.grammar if code else None,
        )
        choice = out["choices"][0]
        return choice["text"], out["usage"]["completion_tokens"], choice["finish_reason"] == "stop"

    def answer(
        self, prompt_ids: list[int], max_tokens: int, code: bool, ask, request: str
    ) -> tuple[str, int, bool, checked.Checked]:
        """(answer kept, tokens of every attempt, the kept one stopped at EOS, the loop's record); code goes
        through the checker loop, ``ask(instruction, program)`` giving a repair request's prompt ids
        and ``request`` what was asked."""
        if not code:
            return (*self.complete(prompt_ids, max_tokens, code), None)
        completions = []

        def generate(ids: list[int], temperature: float, seed: int) -> str:
            completions.append(self.complete(ids, max_tokens, code, temperature, seed))
            return completions[-1][0]

        result = checked.answer(generate, prompt_ids, self.policy, request=request, repair_prompt=ask, code_asked=True)
        tokens = sum(completion[1] for completion in completions)
        return result.answer, tokens, completions[result.kept][2], result


class HfModel:
    """The merged transformers model, greedy, for parity with its GGUF."""

    def __init__(self, backend: Backend, params: Params):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(params.threads)
        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(backend.path, dtype=torch.float32).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(backend.path)

    def answer(
        self, prompt_ids: list[int], max_tokens: int, code: bool, ask, request: str
    ) -> tuple[str, int, bool, None]:
        """As ``GgufModel.answer``; the checker loop runs on GGUF backends only: ``ask`` and ``request`` go unused."""
        eos = self.tokenizer.eos_token_id
        with self.torch.no_grad():
            out = self.model.generate(
                self.torch.tensor([prompt_ids]),
                max_new_tokens=max_tokens,
                do_sample=False,
                eos_token_id=eos,
                pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos,
            )
        new = out[0, len(prompt_ids) :].tolist()
        stopped = bool(new) and new[-1] == eos
        return self.tokenizer.decode(new, skip_special_tokens=True), len(new), stopped, None


def grade(example: dict, answer: str) -> dict:
    if example["family"] in CODE_FAMILIES:
        return scoring.score_code(answer, example["spec"])
    return scoring.score_explanation(answer, example["spec"])


def run_backend(backend: Backend, examples: list[dict], params: Params) -> list[dict]:
    from transformers import AutoTokenizer

    if backend.grammar:  # grammar-constrained decoding only makes sense where code is asked for
        examples = [e for e in examples if e["family"] in CODE_FAMILIES]
    examples = examples[: backend.limit]
    tokenizer = AutoTokenizer.from_pretrained(backend.tokenizer)
    model = (GgufModel if backend.kind == "gguf" else HfModel)(backend, params)
    samples = []

    def ask(instruction: str, program: str) -> list[int]:
        repair = {"instruction": instruction, "input": program, "output": ""}
        return prompting.prompt_ids(tokenizer, prompting.render(repair, tokenizer, backend.prompt_format)[0])

    for example in tqdm(examples, desc=f"evaluate {backend.name}", unit="prompt"):
        prompt, _ = prompting.render(example, tokenizer, backend.prompt_format)
        ids = prompting.prompt_ids(tokenizer, prompt)
        code = example["family"] in CODE_FAMILIES
        started = time.perf_counter()
        answer, tokens, stopped, loop = model.answer(ids, params.max_new_tokens, code, ask, example["instruction"])
        seconds = time.perf_counter() - started
        verdict = grade(example, answer)
        samples.append(
            {
                "backend": backend.name,
                "id": example["id"],
                "family": example["family"],
                "manifold": example["manifold"],
                "level": example["level"],
                "prompt": prompt,
                "reference": example["output"],
                "answer": answer,
                "tokens": tokens,
                "seconds": round(seconds, 4),
                "stopped_at_eos": stopped,
                "verdict": verdict,
                **(loop_fields(example, verdict, loop) if code else {}),
            }
        )
    return samples


def loop_fields(example: dict, verdict: dict, loop: checked.Checked | None) -> dict:
    """What the checker loop did for a code sample (``loop`` is None where it did not run): its
    attempts, whether the first answer checked, and that answer where another one was kept."""
    if loop is None:
        return {"attempts": 1, "first_checked": verdict["checked"]}
    return {
        "attempts": len(loop.attempts),
        "first_checked": scoring.score_code(loop.first_answer, example["spec"])["checked"],
        "tries": loop.record()["tries"],
        **({"first_answer": loop.first_answer} if loop.kept else {}),
    }


CODE_RATES = {"parsed": "parse_rate", "checked": "check_rate", "spec_match": "spec_match"}
EXPLANATION_RATES = {"fact_recall": "fact_recall", "contains_code": "contains_code_rate"}


def rates(samples: list[dict], names: dict[str, str]) -> dict:
    """The mean of each verdict over ``samples``, under its metric name."""
    if not samples:
        return {"n": 0}
    return {
        "n": len(samples),
        **{name: round(mean(float(s["verdict"][key]) for s in samples), 4) for key, name in names.items()},
    }


def code_rates(samples: list[dict]) -> dict:
    """Parse, check and spec-match rates, and the checker loop's figures: first answers' check rate, mean attempts."""
    figures = rates(samples, CODE_RATES)
    if samples:
        figures["first_check_rate"] = round(mean(float(s["first_checked"]) for s in samples), 4)
        figures["mean_attempts"] = round(mean(s["attempts"] for s in samples), 4)
    return figures


def summarize(samples: list[dict]) -> dict:
    """Metrics of one backend: code rates by family (and by manifold and level for prompt→code)."""

    def of(family: str) -> list[dict]:
        return [s for s in samples if s["family"] == family]

    code = of("prompt_to_code")

    def breakdown(key: str) -> dict:
        return {value: code_rates([s for s in code if s[key] == value]) for value in sorted({s[key] for s in code})}

    tokens = sum(s["tokens"] for s in samples)
    seconds = sum(s["seconds"] for s in samples)
    return {
        "code": code_rates(code),
        "code_by_manifold": breakdown("manifold"),
        "code_by_level": breakdown("level"),
        "fix": code_rates(of("fix")),
        "edit": code_rates(of("edit")),
        "explanation": rates(of("code_to_explanation"), EXPLANATION_RATES),
        "stopped_at_eos": round(mean(s["stopped_at_eos"] for s in samples), 4),
        "completion_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2) if seconds else 0.0,
    }


def loss_metrics(train_metrics: str) -> dict:
    """Eval loss and perplexity before and after fine-tuning, as measured by stage ``train``."""
    path = Path(train_metrics) / LIVE_SUMMARY
    try:
        train = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "train metrics not found (run the train stage)") from None
    return {
        name: {"eval_loss": round(train[key], 4), "perplexity": round(math.exp(train[key]), 3)}
        for name, key in (("base", "eval_loss_before"), ("fine_tuned", "eval_loss_after"))
    }


def plot(metrics: dict, plots_dir: Path, served: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = metrics["backends"]
    names = list(backends)
    written = []

    def save(fig, path: Path):
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
        written.append(path)

    def bars(ax, groups: list[str], series: dict[str, list[float]], title: str):
        width = 0.8 / len(series)
        for i, (label, values) in enumerate(series.items()):
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(groups))]
            ax.bar(xs, values, width, label=label)
        ax.set_xticks(range(len(groups)), groups, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.legend(fontsize=8)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))

    def rate(section: str, key: str) -> list[float]:
        return [backends[n][section].get(key, 0.0) for n in names]

    bars(
        axes[0],
        names,
        {"check rate": rate("code", "check_rate"), "spec match": rate("code", "spec_match")},
        "Prompt → NAVA code, by backend",
    )
    bars(
        axes[1],
        names,
        {
            "fact recall": rate("explanation", "fact_recall"),
            "fix spec match": rate("fix", "spec_match"),
            "edit spec match": rate("edit", "spec_match"),
        },
        "Explanations, fixes and edits, by backend",
    )
    save(fig, plots_dir / "eval_backends.png")

    compare = [n for n in ("base", served) if n in backends]
    manifolds = sorted({m for n in compare for m in backends[n]["code_by_manifold"]})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bars(
        ax,
        manifolds,
        {
            f"{n} spec match": [backends[n]["code_by_manifold"].get(m, {}).get("spec_match", 0.0) for m in manifolds]
            for n in compare
        },
        "Prompt → NAVA code: spec match by manifold",
    )
    save(fig, plots_dir / "eval_manifolds.png")
    return written


def run(params: Params) -> dict:
    examples = sample_prompts(params)
    metrics = {"loss": loss_metrics(params.train_metrics), "prompts": len(examples), "backends": {}}
    # dvc.yaml declares the metrics and `dvc exp run` saves the experiment: DVCLive does neither.
    live = Live(dir=params.metrics_dir, save_dvc_exp=False, dvcyaml=None)
    live.summary = metrics  # DVCLive writes it as metrics.json
    samples = []
    for backend in params.backends or default_backends(params):
        answered = run_backend(backend, examples, params)
        samples += answered
        figures = summarize(answered)
        metrics["backends"][backend.name] = figures
        live.make_summary()  # each backend's figures show in `dvc exp show` as soon as it is graded
        log.info(
            "%s: code check %.2f (first answers %.2f), spec match %.2f, %.1f tokens/s",
            backend.name,
            figures["code"].get("check_rate", 0),
            figures["code"].get("first_check_rate", 0),
            figures["code"].get("spec_match", 0),
            figures["tokens_per_s"],
        )
    live.end()
    write_jsonl(params.samples_out, samples)
    pngs = plot(metrics, Path(params.plots_dir), served=params.quantizations[0])
    return {"metrics": metrics, "samples": params.samples_out, "plots": [str(p) for p in pngs]}
