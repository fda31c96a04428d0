"""Stage ``evaluate``: how well does each model write and explain NAVA?

A fixed, stratified sample of eval prompts is answered greedily (stop at EOS, with a token cap)
by every backend: the base model before fine-tuning, the fine-tuned GGUF in f16 and in each
quantization, the GGUF with NAVA grammar-constrained decoding, and, on a subset, the merged
transformers model (for HF↔GGUF parity). The served backend also answers every held-out request
(``held_out_dir``: requests written apart from the generator, and the hand-written public ones),
reported as one row per set. Answers are graded with the NAVA toolkit (``scoring``): code by parse,
check and spec-match rates, explanations by fact recall; every rate carries its Wilson 95% interval
(``<rate>_ci``). Each backend's ``failures`` counts its failing prompt→code answers of each set by
category (truncated, syntax, pose shape, check, manifold, angle, other number, obstacle kind or size,
invented or missing obstacle, cost, ...; ``evaluation.failures``), with the share of the reference's
coordinates and angles they got right; ``benchmarks/failure_table.py`` prints it from the samples file.
A GGUF backend answers ``slots`` prompts together (``lm.parallel``).

With ``checker_loop`` on, a GGUF backend answers the code families through the checker loop
(``lm.checked``, as ``nava-instruct serve`` does): a greedy answer that the checker rejects is
tried again, up to ``max_attempts``; with ``meaning_checks`` so is one that checks but contradicts
what the request states (``reading.claims``; the reader never sees the reference). Each sample
records its attempts and the verdicts of its greedy answer and of the answer a loop without meaning
checks keeps; each code section of the metrics has, side by side, ``first_check_rate`` and
``first_spec_match`` (greedy), ``checker_check_rate`` and ``checker_spec_match`` (the checker loop)
and ``check_rate`` and ``spec_match`` (the answers kept, meaning-checked).

Loss and perplexity on the whole eval split (response tokens only), before and after
fine-tuning, are measured once by stage ``train`` and carried into this stage's metrics.

Outputs: a samples file (prompt, reference, answer, verdicts), the metrics in DVCLive's folder
``metrics_dir`` (metrics.json, a DVC metric, so ``dvc metrics diff`` compares runs; rewritten as
each backend is graded, so ``dvc exp show`` follows the run) and PNG bar charts by backend, family
and manifold, and the served model greedy against the loop on each set of prompts. This module
answers and grades; ``evaluation.metrics`` sums the graded samples up and ``evaluation.plots``
draws the charts.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from dvclive import Live
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from nava_instruct import nava
from nava_instruct.errors import InputError
from nava_instruct.evaluation import plots
from nava_instruct.evaluation.metrics import GENERATED, summarize
from nava_instruct.fileio import read_jsonl, write_jsonl
from nava_instruct.layout import BASE_GGUF, EVAL_META, LIVE_SUMMARY, model_gguf
from nava_instruct.lm import checked, prompting
from nava_instruct.nava import scoring
from nava_instruct.params import StageParams
from nava_instruct.records import FAMILIES, FIELDS

log = logging.getLogger(__name__)

CODE_FAMILIES = ("prompt_to_code", "fix", "edit", "follow_up")


class Backend(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["gguf", "hf"]
    path: str  # a GGUF file, or a transformers folder
    tokenizer: str  # the transformers folder whose tokenizer renders the prompts
    prompt_format: prompting.PromptFormat = "instruction"  # the base model is asked in its own chat format
    grammar: bool = False  # constrain code answers with the NAVA GBNF grammar
    limit: int | None = Field(None, ge=1)  # answer only the first N sampled prompts
    held_out: bool = False  # also answer every held-out request


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
    held_out_dir: str  # requests the generator did not write, one file per set (data/eval_requests)
    context: int = Field(ge=256)  # tokens per slot
    threads: int = Field(ge=1)
    slots: int = Field(ge=1)  # prompts a GGUF backend answers together (lm.parallel)
    checker_loop: checked.Mode  # for the code families of GGUF backends; "off": one greedy answer
    max_attempts: int = Field(ge=1)
    meaning_checks: bool  # the loop also tries again while an answer contradicts the request (reading.claims)
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
        Backend(name="f16", kind="gguf", path=str(gguf / model_gguf("f16")), tokenizer=merged, limit=24),
        *(
            Backend(name=kind, kind="gguf", path=str(gguf / model_gguf(kind)), tokenizer=merged, limit=12)
            for kind in others
        ),
        Backend(name=served, kind="gguf", path=str(gguf / model_gguf(served)), tokenizer=merged, held_out=True),
        Backend(
            name=f"{served}+grammar",
            kind="gguf",
            path=str(gguf / model_gguf(served)),
            tokenizer=merged,
            grammar=True,
            limit=8,
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
    return [example | {"set": GENERATED} for _, _, example in mixed]


def held_out_prompts(folder: str | Path) -> list[dict]:
    """The held-out requests of every ``*.jsonl`` in ``folder`` (its name is the set's), each with the spec
    of its reference program."""
    examples = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line, row in read_jsonl(path, required=(*FIELDS, "id")):
            try:
                problems = nava.extract_spec(row["output"], str(path))["problems"]
            except nava.NavaError as error:
                raise InputError(path, f"the reference program has errors: {error}", line, "output") from None
            if len(problems) != 1:
                raise InputError(path, f"the reference program builds {len(problems)} fields, not 1", line, "output")
            spec = problems[0]
            info = {"set": path.stem, "family": "prompt_to_code", "manifold": spec["manifold"]["kind"], "level": "-"}
            examples.append(row | info | {"spec": spec})
    if not examples:
        raise InputError(folder, "no held-out requests (*.jsonl) here")
    return examples


class GgufModel:
    """A GGUF file answered through llama.cpp, ``slots`` prompts at a time; prompts arrive as token ids, so
    nothing is re-tokenized."""

    def __init__(self, backend: Backend, params: Params):
        from nava_instruct.lm.grammar import nava_grammar
        from nava_instruct.lm.parallel import ParallelDecoder

        self.slots = params.slots
        self.decoder = ParallelDecoder.open(backend.path, params.slots, params.context, n_threads=params.threads)
        self.grammar = nava_grammar() if backend.grammar else None
        self.policy = checked.Policy(
            mode=params.checker_loop,
            max_attempts=params.max_attempts,
            seconds=None,  # no deadline: which answer is kept must not depend on the machine's speed
            seed=params.seed,
            meaning=params.meaning_checks,
        )

    def answer(
        self, prompt_ids: list[int], max_tokens: int, code: bool, repair_ids, example: dict
    ) -> tuple[str, int, bool, checked.Checked | None]:
        """(answer kept, tokens of every attempt, the kept one stopped at EOS, the loop's result); code goes
        through the checker loop (``checked.decode``), ``repair_ids(example)`` giving a repair example's
        prompt ids; the ``example``'s instruction is what was asked, its input and a follow-up's earlier
        turns what it is about."""
        from nava_instruct.lm.parallel import Sampling

        sampling = Sampling(max_tokens, grammar=self.grammar if code else None)
        if not code:
            generated = self.decoder.generate_in_room(prompt_ids, sampling)
            return generated.text, generated.completion_tokens, generated.finish_reason == "stop", None
        generations, result = checked.decode(
            self.decoder,
            prompt_ids,
            sampling,
            self.policy,
            request=example["instruction"],
            repair_prompt=repair_ids,
            context="\n".join([example["input"], *(turn["content"] for turn in example.get("history", ()))]),
            code_asked=True,
        )
        kept = generations[result.kept]
        return kept.text, sum(g.completion_tokens for g in generations), kept.finish_reason == "stop", result

    def close(self) -> None:
        self.decoder.close()


class HfModel:
    """The merged transformers model, greedy, for parity with its GGUF."""

    def __init__(self, backend: Backend, params: Params):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(params.threads)
        self.slots = 1
        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(backend.path, dtype=torch.float32).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(backend.path)

    def answer(
        self, prompt_ids: list[int], max_tokens: int, code: bool, repair_ids, example: dict
    ) -> tuple[str, int, bool, None]:
        """As ``GgufModel.answer``; the checker loop runs on GGUF backends only: ``repair_ids`` and ``example``
        go unused."""
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

    def close(self) -> None:
        pass


def grade(example: dict, answer: str) -> dict:
    if example["family"] in CODE_FAMILIES:
        return scoring.score_code(answer, example["spec"])
    return scoring.score_explanation(answer, example["spec"])


def run_backend(backend: Backend, examples: list[dict], held_out: list[dict], params: Params) -> tuple[list, float]:
    """The backend's graded samples, and the wall time it took to answer them."""
    from transformers import AutoTokenizer

    if backend.grammar:  # grammar-constrained decoding only makes sense where code is asked for
        examples = [e for e in examples if e["family"] in CODE_FAMILIES]
    examples = examples[: backend.limit] + (held_out if backend.held_out else [])
    tokenizer = AutoTokenizer.from_pretrained(backend.tokenizer)
    model = (GgufModel if backend.kind == "gguf" else HfModel)(backend, params)

    def rendered(example: dict) -> tuple[str, list[int]]:
        """An example's prompt (a repair example's too) in the backend's format: its text and token ids."""
        text = prompting.render(example, tokenizer, backend.prompt_format)[0]
        return text, prompting.prompt_ids(tokenizer, text)

    def repair_ids(example: dict) -> list[int]:
        return rendered(example)[1]

    def sample(example: dict) -> dict:
        prompt, ids = rendered(example)
        code = example["family"] in CODE_FAMILIES
        started = time.perf_counter()
        answer, tokens, stopped, loop = model.answer(ids, params.max_new_tokens, code, repair_ids, example)
        seconds = time.perf_counter() - started
        verdict = grade(example, answer)
        return {
            "backend": backend.name,
            "set": example["set"],
            "id": example["id"],
            "family": example["family"],
            "manifold": example["manifold"],
            "level": example["level"],
            "prompt": prompt,
            "reference": example["output"],
            "answer": answer,
            "tokens": tokens,
            "seconds": round(seconds, 4),  # this prompt's latency, beside the others answered with it
            "stopped_at_eos": stopped,
            "verdict": verdict,
            **(loop_fields(example, verdict, loop) if code else {}),
        }

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(model.slots) as pool:  # each thread asks the decoder, which batches them
            answered = pool.map(sample, examples)
            samples = list(tqdm(answered, total=len(examples), desc=f"evaluate {backend.name}", unit="prompt"))
    finally:
        model.close()
    return samples, time.perf_counter() - started


def loop_fields(example: dict, verdict: dict, loop: checked.Checked | None) -> dict:
    """What the checker loop did for a code sample (``loop`` is None where it did not run): its
    attempts; the verdicts of the first (greedy) answer and of the one a loop without meaning checks
    keeps (``checker_kept``: the attempts up to it are the same); the first answer where another one
    was kept."""
    if loop is None:
        same = {"checked": verdict["checked"], "spec_match": verdict["spec_match"]}
        return {"attempts": 1} | {
            f"{answer}_{key}": value for answer in ("first", "checker") for key, value in same.items()
        }
    first = scoring.score_code(loop.first_answer, example["spec"])
    checker = scoring.score_code(loop.attempts[loop.checker_kept].answer, example["spec"])
    return {
        "attempts": len(loop.attempts),
        "first_checked": first["checked"],
        "first_spec_match": first["spec_match"],
        "checker_checked": checker["checked"],
        "checker_spec_match": checker["spec_match"],
        "agrees": loop.agrees,
        "tries": loop.record()["tries"],
        **({"first_answer": loop.first_answer} if loop.kept else {}),
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


def run(params: Params) -> dict:
    examples, held_out = sample_prompts(params), held_out_prompts(params.held_out_dir)
    metrics = {
        "loss": loss_metrics(params.train_metrics),
        "prompts": len(examples),
        "held_out_prompts": len(held_out),
        "backends": {},
    }
    # dvc.yaml declares the metrics and `dvc exp run` saves the experiment: DVCLive does neither.
    live = Live(dir=params.metrics_dir, save_dvc_exp=False, dvcyaml=None)
    live.summary = metrics  # DVCLive writes it as metrics.json
    samples = []
    for backend in params.backends or default_backends(params):
        answered, seconds = run_backend(backend, examples, held_out, params)
        samples += answered
        figures = summarize(answered, seconds)
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
    pngs = plots.plot(metrics, Path(params.plots_dir), served=params.quantizations[0])
    return {"metrics": metrics, "samples": params.samples_out, "plots": [str(p) for p in pngs]}
