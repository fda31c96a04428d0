"""What the checker loop buys: the hand-written prompt→code prompts answered greedily and in each loop mode.

Loads a GGUF with ``lm.llamacpp.load``, renders each prompt as training does (instruction format,
through the tokenizer folder's tokenizer), answers it with ``lm.checked.answer`` in each mode, and
prints per mode how many answers check, the mean attempts and the mean seconds per prompt.
Greedy completions are computed once and replayed in later modes, their first time counted again.

    python benchmarks/checker_loop.py --model models/gguf/model-Q4_K_M.gguf --tokenizer models/merged --threads 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import mean

from nava_instruct.lm import checked, llamacpp, prompting

EXTERNAL = Path("/work/shared/external")
FILES = ("nava_instruct_train.handwritten.jsonl", "nava_instruct_eval.handwritten.jsonl")


def code_prompts(folder: Path) -> list[dict]:
    """The rows that ask for code from words alone: an empty input and a program as the output."""
    rows = [json.loads(line) for name in FILES for line in (folder / name).read_text().splitlines() if line.strip()]
    return [row for row in rows if not row["input"] and checked.is_code(row["output"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokenizer", required=True, help="the transformers folder whose tokenizer renders prompts")
    parser.add_argument("--data", type=Path, default=EXTERNAL)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-attempts", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--limit", type=int, help="answer only the first N prompts")
    parser.add_argument(
        "--modes", nargs="+", choices=checked.MODES, default=checked.MODES, help="off is greedy (default: all)"
    )
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    llm = llamacpp.load(args.model, n_ctx=2048, n_threads=args.threads)

    def ids(example: dict) -> list[int]:
        return prompting.prompt_ids(tokenizer, prompting.render(example | {"output": ""}, tokenizer)[0])

    greedy: dict[tuple[int, ...], tuple[str, float]] = {}  # prompt -> (text, seconds it took)
    replayed = [0.0]

    def complete(prompt: list[int], temperature: float, seed: int) -> tuple[str, float]:
        started = time.perf_counter()
        llm.reset()
        out = llm.create_completion(prompt, max_tokens=args.max_tokens, temperature=temperature, seed=seed)
        return out["choices"][0]["text"], time.perf_counter() - started

    def generate(prompt: list[int], temperature: float, seed: int) -> str:
        if temperature:
            return complete(prompt, temperature, seed)[0]
        if tuple(prompt) not in greedy:
            greedy[tuple(prompt)] = complete(prompt, temperature, seed)
            replayed[0] -= greedy[tuple(prompt)][1]  # counted by the wall clock this time
        text, seconds = greedy[tuple(prompt)]
        replayed[0] += seconds
        return text

    rows = code_prompts(args.data)[: args.limit]
    print(f"{len(rows)} prompt→code prompts, up to {args.max_attempts} attempts, {args.model}")
    print(f"{'mode':<8} {'checks':>8} {'mean attempts':>14} {'mean seconds':>13}")
    for mode in args.modes:
        policy = checked.Policy(mode=mode, max_attempts=args.max_attempts, seconds=None)
        results, seconds = [], []
        for row in rows:
            started, replayed[0] = time.perf_counter(), 0.0
            results.append(checked.answer(generate, ids(row), policy, request=row["instruction"], repair_prompt=ids))
            seconds.append(time.perf_counter() - started + replayed[0])
        checks = sum(bool(result.checked) for result in results)
        attempts = mean(len(result.attempts) for result in results)
        name = "greedy" if mode == "off" else mode
        print(f"{name:<8} {checks:>4}/{len(rows):<3} {attempts:>14.2f} {mean(seconds):>13.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
