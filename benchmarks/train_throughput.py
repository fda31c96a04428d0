"""Training throughput of the ``train`` stage under each numerics profile, against the baselines, in one run.

Every side trains as the ``train`` section of ``--params`` says (base, data, LoRA settings, micro-batch
size, ``batch_size`` × ``grad_accum`` examples per optimizer step, ``max_length``, learning rate, gradient
clipping, seed), on the stage's first optimizer steps (the same examples on every side); only what the
side names differs:

- naive: the original guide's data path (prompt + response + EOS tokenized together, padded to
  ``max_length`` with pad = EOS, loss on every position), float32 on the CPU's own kernels;
- fp32-before: the stage as it was before the numerics profiles: length-grouped batches, padding
  per batch, logits at every position, adapters on every layer, float32 on the CPU's own kernels;
- portable: the stage's default, with the section's adapted layers and logits at supervised
  positions only, under the portable profile's pinned kernels;
- portable-top-8: the same with adapters on the top 8 layers only (the backward pass stops there);
- fastest: the stage's default under the fastest class this CPU has (``cpu-bf16`` where it runs; on
  an AVX2-only CPU that is ``portable`` itself, and the side is left out).

Useful tokens are the non-pad ones; the figure that matters is useful tokens per second. Each
side runs in its own process, one after the other (pins only take effect before torch loads, and
two 135M models in float32 training at once would not fit beside each other on a small machine).
The first step of each side only warms up. Prints a table of the sides; with ``--profile-ops``, also
the ops that take the time in one more step of each side (``torch.profiler``, by self CPU time).

    python benchmarks/train_throughput.py [--params params.yaml] [--steps 3] [--sides portable fp32-before]
    python benchmarks/train_throughput.py --steps 1 --sides portable --profile-ops
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

from nava_instruct import numerics
from nava_instruct.params import DEFAULT_PARAMS, load_section

log = logging.getLogger("train_throughput")


@dataclass(frozen=True)
class Side:
    profile: str | None  # None: no pins, the CPU's own float32 kernels (what training used before the profiles)
    data: str  # "stage" or "naive"
    logits: str  # "supervised" (the stage now) or "all"
    adapted_layers: int | None | Literal["params"]  # the top N layers; None: all; "params": as the section says


SIDES = {
    "naive": Side(None, "naive", "all", None),
    "fp32-before": Side(None, "stage", "all", None),
    "portable": Side("portable", "stage", "supervised", "params"),
    "portable-top-8": Side("portable", "stage", "supervised", 8),
    "fastest": Side("cpu-bf16", "stage", "supervised", "params"),
}
OWN_KERNELS = numerics.Profile("own kernels", "cpu", "fp32")  # float32 with nothing pinned, torch's default kernels
BASELINES = ("fp32-before", "naive")  # every side's speed is also given as a ratio to these
OPS_SHOWN = 15  # rows of the --profile-ops table


def stage_params(args, side: Side):
    """The ``train`` section of ``--params``, as the stage validates it, with ``--base``, ``--data`` and the
    side's adapted layers on top."""
    from nava_instruct.stages import train

    section = load_section(train.Params, "train", args.params)
    update = {"base_dir": args.base or section.base_dir, "train_file": args.data or section.train_file}
    if side.adapted_layers != "params":
        update["adapted_layers"] = side.adapted_layers
    return section.model_copy(update=update)


def step_batches(params, tokenizer, steps: int) -> list[list[list[tuple[dict, object]]]]:
    """The micro-batches of the stage's first ``steps`` optimizer steps, as lists of (record, encoded) pairs."""
    from nava_instruct.fileio import read_jsonl
    from nava_instruct.lm.batching import Plan
    from nava_instruct.lm.prompting import encode
    from nava_instruct.records import FIELDS

    records = [record for _, record in read_jsonl(params.train_file, required=FIELDS)]
    pairs = [(record, encode(record, tokenizer, params.max_length, params.prompt_format)) for record in records]
    pairs = [(record, encoded) for record, encoded in pairs if encoded is not None]
    plan = Plan([encoded for _, encoded in pairs], params.batch_size, params.grad_accum, 1, params.seed)
    return [[[pairs[i] for i in batch] for batch in plan.step(step, 0).batches] for step in range(steps)]


def collate_naive(pairs, tokenizer, params) -> dict:
    from nava_instruct.lm.prompting import render

    tokenizer.pad_token = tokenizer.eos_token  # the guide's pad = EOS
    texts = [
        prompt + response + tokenizer.eos_token
        for prompt, response in (render(record, tokenizer, params.prompt_format) for record, _ in pairs)
    ]
    encoded = tokenizer(
        texts,
        padding="max_length",
        truncation=True,
        max_length=params.max_length,
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


def optimizer_step(model, optimizer, batches: list[dict], loss_of, precision: str, max_grad_norm: float) -> float:
    """One optimizer step over its micro-batches, clipped as the stage clips; its loss per supervised token."""
    import torch

    total, supervised = 0.0, 0
    for batch in batches:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss, count = loss_of(model, batch)
        loss.backward()
        total, supervised = total + loss.item(), supervised + count.item()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total / supervised


def measure(name: str, args) -> dict:
    """Train side ``name`` for ``args.steps`` timed steps (after one warm-up) in this process; with
    ``args.profile_ops``, profile one more step."""
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

    params = stage_params(args, side)
    train.make_deterministic(params.seed)
    tokenizer = AutoTokenizer.from_pretrained(params.base_dir)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model = train.load_model(params, profile, trust_remote_code=False, device_index=0)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=params.lr,
        weight_decay=params.weight_decay,
        fused=side.profile is not None,
    )  # as the stage; the CPU's own kernels ran the for-each AdamW before the profiles
    loss_of = batch_loss if side.logits == "supervised" else loss_at_every_position

    def micro_batches(chunks) -> list[dict]:
        if side.data == "naive":
            return [collate_naive(chunk, tokenizer, params) for chunk in chunks]
        return [collate([encoded for _, encoded in chunk], pad_id) for chunk in chunks]

    steps = step_batches(params, tokenizer, 1 + args.steps + args.profile_ops)
    times, useful, processed = [], 0, 0
    for index, chunks in enumerate(steps[: 1 + args.steps]):
        batches = micro_batches(chunks)
        tick = time.perf_counter()
        loss = optimizer_step(model, optimizer, batches, loss_of, profile.precision, params.max_grad_norm)
        seconds = time.perf_counter() - tick
        log.info("%s step %d: %.1f s, loss %.3f", name, index, seconds, loss)
        if index:  # the first step warms up kernels and allocators
            times.append(seconds)
            useful += sum(len(encoded.input_ids) for chunk in chunks for _, encoded in chunk)
            processed += sum(batch["input_ids"].numel() for batch in batches)
    result = {
        "side": name,
        "trained": f"base {params.base_dir}, data {params.train_file}: {params.batch_size} × {params.grad_accum}"
        f" examples per step, max_length {params.max_length}",
        "useful_tokens_per_s": useful / sum(times),
        "padding_share": 1 - useful / processed,
        "median_step_s": statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "numerics": numerics.record(profile)
        if side.profile
        else {"profile": None, "aten_capability": torch.backends.cpu.get_cpu_capability()},
        "threads": torch.get_num_threads(),
    }
    if args.profile_ops:
        batches = micro_batches(steps[-1])
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            optimizer_step(model, optimizer, batches, loss_of, profile.precision, params.max_grad_norm)
        result["ops"] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=OPS_SHOWN)
    return result


def table(results: dict[str, dict]) -> str:
    """The sides as a markdown table, with their speed as a ratio to each baseline that ran."""
    baselines = [baseline for baseline in BASELINES if baseline in results]
    head = ["side", "useful tokens/s", *(f"vs {baseline}" for baseline in baselines)]
    head += ["padding", "median step s", "peak RSS MB", "kernels", "threads"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, result in results.items():
        speed = result["useful_tokens_per_s"]
        cells = [name, f"{speed:.1f}"]
        cells += [f"{speed / results[baseline]['useful_tokens_per_s']:.2f}x" for baseline in baselines]
        cells += [
            f"{100 * result['padding_share']:.0f}%",
            f"{result['median_step_s']:.2f}",
            f"{result['peak_rss_mb']:.0f}",
            f"{result['numerics']['profile'] or 'own kernels'}, ATen {result['numerics']['aten_capability']}",
            str(result["threads"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--params",
        default=DEFAULT_PARAMS,
        help="the params file whose train section every side trains as (default: %(default)s)",
    )
    parser.add_argument("--base", help="base model folder from stage base (default: the section's base_dir)")
    parser.add_argument("--data", help="training examples (default: the section's train_file)")
    parser.add_argument(
        "--steps", type=int, default=3, help="timed steps per side, after one warm-up (default: %(default)s)"
    )
    parser.add_argument(
        "--sides", nargs="+", choices=list(SIDES), default=list(SIDES), help="which sides to run (default: all)"
    )
    parser.add_argument(
        "--profile-ops",
        action="store_true",
        help=f"also profile one more step of each side and print its top {OPS_SHOWN} ops by self CPU time",
    )
    parser.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)  # a child process measuring one side
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.side:
        print(json.dumps(measure(args.side, args)))
        return
    sides = list(dict.fromkeys(args.sides))
    if "fastest" in sides and (problem := numerics.missing(numerics.PROFILES[SIDES["fastest"].profile])):
        log.info("side fastest left out: %s", problem)
        sides.remove("fastest")
    if not sides:
        parser.error("no side left to run")
    results = {}
    for name in sides:
        command = [sys.executable, __file__, *sys.argv[1:], "--side", name]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        results[name] = json.loads(done.stdout.splitlines()[-1])
    cpu = numerics.cpu()
    print(f"CPU: {cpu['model']} ({', '.join(cpu['features'] or [])})")
    print(f"{next(iter(results.values()))['trained']}; timed steps after a warm-up: {args.steps}")
    print(table(results))
    for name, result in results.items():
        if "ops" in result:
            print(f"\n{name}: the top {OPS_SHOWN} ops of one step by self CPU time\n{result['ops']}")


if __name__ == "__main__":
    main()
