"""Training throughput of the ``train`` stage under each numerics profile, against the baselines, in one run.

Every side fine-tunes the same LoRA adapter on the same base model, optimizer step by optimizer
step on the stage's first steps of ``--examples-per-step`` examples (the same ones wherever the
micro-batch size is the same); only what the side names differs:

- naive: the original guide's data path (prompt + response + EOS tokenized together, padded to
  ``max_length`` with pad = EOS, loss on every position), float32 on the CPU's own kernels;
- fp32-before: the stage as it was before the numerics profiles: length-grouped batches, padding
  per batch, logits at every position, adapters on every layer, float32 on the CPU's own kernels;
- portable: the stage's default, with ``params.yaml``'s adapted layers and logits at supervised
  positions only, under the portable profile's pinned kernels;
- portable-top-8: the same with adapters on the top 8 layers only (the backward pass stops there);
- fastest: the stage's default under the fastest class this CPU has (``cpu-bf16`` where it runs; on
  an AVX2-only CPU that is ``portable`` itself, and the side is left out).

Every side uses ``params.yaml``'s micro-batch size.

Useful tokens are the non-pad ones; the figure that matters is useful tokens per second. Each
side runs in its own process, one after the other (pins only take effect before torch loads, and
two 135M models in float32 training at once would not fit beside each other on a small machine).
The first step of each side only warms up.

    python benchmarks/train_throughput.py [--base models/base] [--steps 3] [--sides portable fp32-before]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Literal

import yaml

from nava_instruct import numerics

log = logging.getLogger("train_throughput")


@dataclass(frozen=True)
class Side:
    profile: str | None  # None: no pins, the CPU's own float32 kernels (what training used before the profiles)
    data: str  # "stage" or "naive"
    logits: str  # "supervised" (the stage now) or "all"
    adapted_layers: int | None | Literal["params"]  # the top N layers; None: all; "params": as params.yaml says


SIDES = {
    "naive": Side(None, "naive", "all", None),
    "fp32-before": Side(None, "stage", "all", None),
    "portable": Side("portable", "stage", "supervised", "params"),
    "portable-top-8": Side("portable", "stage", "supervised", 8),
    "fastest": Side("cpu-bf16", "stage", "supervised", "params"),
}
OWN_KERNELS = numerics.Profile("own kernels", "cpu", "fp32")  # float32 with nothing pinned, torch's default kernels


def step_batches(args, tokenizer, micro: int) -> list[list[list[tuple[dict, object]]]]:
    """The micro-batches of the stage's first ``steps + 1`` optimizer steps, as lists of (record, encoded) pairs.

    The stage's own plan for this micro-batch size: sides with the same size train on the same examples.
    """
    from nava_instruct.fileio import read_jsonl
    from nava_instruct.lm.batching import Plan
    from nava_instruct.lm.prompting import encode
    from nava_instruct.records import FIELDS

    records = [record for _, record in read_jsonl(args.data, required=FIELDS)]
    pairs = [(record, encode(record, tokenizer, args.max_length)) for record in records]
    pairs = [(record, encoded) for record, encoded in pairs if encoded is not None]
    plan = Plan([encoded for _, encoded in pairs], micro, args.examples_per_step // micro, 1, seed=1234)
    return [[[pairs[i] for i in batch] for batch in plan.step(step, 0).batches] for step in range(args.steps + 1)]


def collate_naive(pairs, tokenizer, max_length: int) -> dict:
    from nava_instruct.lm.prompting import render

    tokenizer.pad_token = tokenizer.eos_token  # the guide's pad = EOS
    texts = [
        prompt + response + tokenizer.eos_token
        for prompt, response in (render(record, tokenizer) for record, _ in pairs)
    ]
    encoded = tokenizer(
        texts,
        padding="max_length",
        truncation=True,
        max_length=max_length,
        add_special_tokens=False,
        return_tensors="pt",
    )
    return {**encoded, "labels": encoded["input_ids"].clone()}  # labels on the padding too


def loss_at_every_position(model, batch):
    """The loss as computed before: logits for every position, shifted, supervised ones kept."""
    import torch

    from nava_instruct.lm.prompting import IGNORE

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    targets = batch["labels"][:, 1:]
    supervised = targets != IGNORE
    return torch.nn.functional.cross_entropy(
        logits[supervised].float(), targets[supervised], reduction="sum"
    ), supervised.sum()


def measure(name: str, args) -> dict:
    """Train side ``name`` for ``args.steps`` timed steps (after one warm-up) in this process."""
    side = SIDES[name]
    if side.profile:
        profile = numerics.apply(numerics.Params(profile=side.profile))
    else:
        profile = OWN_KERNELS
        for variable in numerics.PINNED:
            os.environ.pop(variable, None)
    import torch
    from transformers import AutoTokenizer

    from nava_instruct.lm.batching import batch_loss, collate
    from nava_instruct.stages import train

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stage = yaml.safe_load(open(args.params))["train"]
    micro = stage["batch_size"]
    params = train.Params(
        base_dir=args.base,
        adapted_layers=stage.get("adapted_layers") if side.adapted_layers == "params" else side.adapted_layers,
    )
    precision = profile.precision
    model = train.load_model(params, profile, trust_remote_code=False, device_index=0)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=2e-4, fused=side.profile is not None
    )  # as the stage
    loss_of = batch_loss if side.logits == "supervised" else loss_at_every_position
    times, useful, processed = [], 0, 0
    for index, chunks in enumerate(step_batches(args, tokenizer, micro)):
        if side.data == "naive":
            batches = [collate_naive(chunk, tokenizer, args.max_length) for chunk in chunks]
        else:
            batches = [collate([encoded for _, encoded in chunk], pad_id) for chunk in chunks]
        tick = time.perf_counter()
        losses = []
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss, count = loss_of(model, batch)
            loss.backward()
            losses.append(loss.item() / count.item())
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - tick
        log.info("%s step %d: %.1f s, loss %.3f", name, index, seconds, statistics.mean(losses))
        if index:  # the first step warms up kernels and allocators
            times.append(seconds)
            useful += sum(len(encoded.input_ids) for chunk in chunks for _, encoded in chunk)
            processed += sum(batch["input_ids"].numel() for batch in batches)
    return {
        "side": name,
        "useful_tokens_per_s": useful / sum(times),
        "padding_share": 1 - useful / processed,
        "median_step_s": statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "numerics": numerics.record()
        if side.profile
        else {"profile": None, "aten_capability": torch.backends.cpu.get_cpu_capability()},
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base", default="models/base", help="base model folder from stage base (default: %(default)s)"
    )
    parser.add_argument(
        "--data", default="data/nava_instruct_train.jsonl", help="training examples (default: %(default)s)"
    )
    parser.add_argument(
        "--params",
        default="params.yaml",
        help="the stage layout of the portable and fastest sides (default: %(default)s)",
    )
    parser.add_argument(
        "--examples-per-step", type=int, default=8, help="examples per optimizer step (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=int, default=3, help="timed steps per side, after one warm-up (default: %(default)s)"
    )
    parser.add_argument("--max-length", type=int, default=1024, help="as train.max_length (default: %(default)s)")
    parser.add_argument(
        "--sides", nargs="+", choices=list(SIDES), default=list(SIDES), help="which sides to run (default: all)"
    )
    parser.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)  # a child process measuring one side
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.side:
        print(json.dumps(measure(args.side, args)))
        return
    sides = [
        name
        for name in args.sides
        if not (name == "fastest" and numerics.missing(numerics.PROFILES[SIDES[name].profile]))
    ]
    results = {}
    for name in sides:
        command = [sys.executable, __file__, *sys.argv[1:], "--side", name]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        results[name] = json.loads(done.stdout.splitlines()[-1])
    cpu = numerics.cpu()
    log.info("CPU: %s (%s)", cpu["model"], ", ".join(cpu["features"] or []))
    for name, result in results.items():
        log.info(
            "%-20s %7.1f useful tok/s  padding %3.0f%%  median step %6.2f s  peak RSS %6.0f MB"
            "  %s, ATen %s, %d threads",
            name,
            result["useful_tokens_per_s"],
            100 * result["padding_share"],
            result["median_step_s"],
            result["peak_rss_mb"],
            result["numerics"]["profile"] or "own kernels",
            result["numerics"]["aten_capability"],
            result["threads"],
        )
    for name in results:
        for baseline in ("fp32-before", "naive"):
            if name != baseline and baseline in results:
                ratio = results[name]["useful_tokens_per_s"] / results[baseline]["useful_tokens_per_s"]
                log.info("useful tokens/s, %s / %s: %.2fx", name, baseline, ratio)


if __name__ == "__main__":
    main()
