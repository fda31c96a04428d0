"""How many prompts should a GGUF backend decode together? Greedy throughput for each slot count, side by side.

Answers the first ``--prompts`` eval prompts with a token cap, through one ``ParallelDecoder`` per slot
count, as ``evaluate`` does (one thread per slot), and prints seconds, generated tokens and tokens/s.
Run it on an idle machine: llama.cpp's threads spin, so another busy process skews every row.

    python benchmarks/parallel_slots.py --slots 4 8 16
    python benchmarks/parallel_slots.py --model models/gguf/model-Q8_0.gguf --prompts 24 --slots 1 4
"""

from __future__ import annotations

import argparse
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from nava_instruct import layout
from nava_instruct.fileio import read_jsonl
from nava_instruct.lm import prompting
from nava_instruct.lm.parallel import ParallelDecoder, Sampling
from nava_instruct.params import DEFAULT_PARAMS, load_section
from nava_instruct.records import FIELDS
from nava_instruct.stages import evaluate


def main() -> int:
    stage = load_section(evaluate.Params, "evaluate", DEFAULT_PARAMS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=f"{stage.gguf_dir}/{layout.model_gguf(stage.quantizations[0])}")
    parser.add_argument("--tokenizer", default=stage.merged_dir)
    parser.add_argument("--eval-file", default=stage.eval_file)
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 4, 8, 16])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    rows = [row for _, row in read_jsonl(args.eval_file, required=FIELDS)[: args.prompts]]
    prompts = [prompting.prompt_ids(tokenizer, prompting.render(row, tokenizer)[0]) for row in rows]
    print("| slots | seconds | tokens | tokens/s |\n|---|---|---|---|")
    for slots in args.slots:
        decoder = ParallelDecoder.open(args.model, slots, stage.context, n_threads=stage.threads)
        started = time.perf_counter()
        with ThreadPoolExecutor(slots) as pool:
            answers = list(pool.map(lambda ids: decoder.generate(ids, Sampling(args.max_tokens)), prompts))
        seconds = time.perf_counter() - started
        decoder.close()
        tokens = sum(answer.completion_tokens for answer in answers)
        print(f"| {slots} | {seconds:.1f} | {tokens} | {tokens / seconds:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
