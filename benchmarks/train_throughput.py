"""Training throughput of the ``train`` stage's data path against the original guide's, in one run.

Both sides fine-tune the same LoRA adapter on the same base model and the same examples, with the
same batch size, precision and optimizer; only the data path differs:

- stage: examples grouped by length and padded per batch, loss on the response and its EOS only,
  padding masked by position (``nava_instruct.batching``);
- naive (the original guide's way): prompt + response + EOS tokenized together, every example
  padded to ``max_length`` with pad = EOS, loss on every position including the padding.

Useful tokens are the non-pad ones; the figure that matters is useful tokens per second. Each side
runs in its own process (so its peak RSS is its own), and the two take turns step by step, so a
shared, busy CPU slows both alike. The first step of each side only warms up.

    python benchmarks/train_throughput.py [--base models/base] [--data data/nava_instruct_train.jsonl]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import resource
import statistics
import time

from nava_instruct import (
    train,  # before torch: it sets OpenMP's wait policy as the stage does
)

log = logging.getLogger("train_throughput")

SIDES = ("stage", "naive")


def grouped_records(args, tokenizer) -> list[list[tuple[dict, object]]]:
    """The first batches the stage would train on, as (record, encoded) pairs; both sides use them.

    Records are drawn (fixed seed) to fill one length-sorted group of ``MEGA_BATCH`` batches, so the
    stage's batches are as tightly grouped as in a real run.
    """
    from nava_instruct.batching import MEGA_BATCH, length_grouped_batches
    from nava_instruct.fileio import read_jsonl
    from nava_instruct.prompting import encode
    from nava_instruct.records import FIELDS

    records = [record for _, record in read_jsonl(args.data, required=FIELDS)]
    pairs = [(record, encode(record, tokenizer, args.max_length)) for record in random.Random(0).sample(records, min(len(records), args.batch_size * MEGA_BATCH))]
    pairs = [(record, encoded) for record, encoded in pairs if encoded is not None]
    order = length_grouped_batches([len(encoded.input_ids) for _, encoded in pairs], args.batch_size, seed=0, epoch=0)
    return [[pairs[i] for i in batch] for batch in order[: args.steps + 1]]


def batch_stage(pairs, tokenizer, args) -> tuple[dict, int]:
    from nava_instruct.batching import collate

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return collate([encoded for _, encoded in pairs], pad_id), sum(len(encoded.input_ids) for _, encoded in pairs)


def batch_naive(pairs, tokenizer, args) -> tuple[dict, int]:
    from nava_instruct.prompting import render

    tokenizer.pad_token = tokenizer.eos_token  # the guide's pad = EOS
    texts = [prompt + response + tokenizer.eos_token for prompt, response in (render(record, tokenizer) for record, _ in pairs)]
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=args.max_length, add_special_tokens=False, return_tensors="pt")
    useful = int(encoded["attention_mask"].sum())
    return {**encoded, "labels": encoded["input_ids"].clone()}, useful  # labels on the padding too


def measure(side: str, args, turn, results) -> None:
    """Train one side for ``args.steps`` timed steps, waiting for its turn before each."""
    import torch
    from transformers import AutoTokenizer

    from nava_instruct.batching import token_loss

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    make = batch_stage if side == "stage" else batch_naive
    batches = [make(pairs, tokenizer, args) for pairs in grouped_records(args, tokenizer)]
    precision = args.precision if side == "stage" else args.naive_precision or args.precision
    params = train.Params(base_dir=args.base, precision=precision, target_modules=args.target_modules)
    model = train.load_model(params, trust_remote_code=False, device_index=0)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    times, useful, processed = [], 0, 0
    for index, (batch, tokens) in enumerate(batches):
        for _ in range(SIDES.index(side) + 1):  # stage goes first, naive second, in every round
            turn.wait()
        tick = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss, count = token_loss(logits, batch["labels"])
        (loss / count).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - tick
        log.info("%s step %d: %.1f s", side, index, seconds)
        if index:  # the first step warms up kernels and allocators
            times.append(seconds)
            useful += tokens
            processed += batch["input_ids"].numel()
        for _ in range(len(SIDES) - SIDES.index(side)):
            turn.wait()
    results.put((side, {
        "useful_tokens_per_s": useful / sum(times),
        "processed_tokens_per_s": processed / sum(times),
        "padding_share": 1 - useful / processed,
        "median_step_s": statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="models/base", help="base model folder from stage base (default: %(default)s)")
    parser.add_argument("--data", default="data/nava_instruct_train.jsonl", help="training examples (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=4, help="examples per step, as train.batch_size (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per side, after one warm-up (default: %(default)s)")
    parser.add_argument("--max-length", type=int, default=1024, help="as train.max_length (default: %(default)s)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16", help="as train.precision (default: %(default)s)")
    parser.add_argument("--naive-precision", choices=["fp32", "bf16"], help="the naive side's, if it differs (the guide trained in fp32)")
    parser.add_argument("--target-modules", nargs="+", default=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    context = multiprocessing.get_context("spawn")
    turn, queue = context.Barrier(len(SIDES)), context.Queue()
    workers = [context.Process(target=measure, args=(side, args, turn, queue)) for side in SIDES]
    for worker in workers:
        worker.start()
    results = dict(queue.get() for _ in SIDES)
    for worker in workers:
        worker.join()
    for side, result in results.items():
        log.info(
            "%-6s %7.1f useful tok/s  %7.1f processed tok/s  padding %3.0f%%  median step %6.2f s  peak RSS %6.0f MB",
            side, result["useful_tokens_per_s"], result["processed_tokens_per_s"], 100 * result["padding_share"], result["median_step_s"], result["peak_rss_mb"],
        )
    ratio = results["stage"]["useful_tokens_per_s"] / results["naive"]["useful_tokens_per_s"]
    precisions = args.precision if not args.naive_precision else f"{args.precision} vs {args.naive_precision}"
    log.info("useful tokens/s, stage / naive: %.2fx (batch %d, max_length %d, %s)", ratio, args.batch_size, args.max_length, precisions)


if __name__ == "__main__":
    main()
