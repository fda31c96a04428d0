"""What grammar-constrained decoding costs: greedy tokens/s without a grammar, with llama-cpp-python's grammar path,
and with the package's chosen-token-first grammar check, side by side in one run.

Renders a few hand-written prompt→code instructions (empty input) in the training format, answers each greedily
in the three modes, and prints tokens/s per mode, its ratio of time per token to no grammar, on how many steps
the fast path had to check the whole vocabulary, and whether its text equals the stock grammar path's text on
every prompt. It also times the grammar sampler applied to all candidates and to one token, once per step of a
stock-grammar answer.

    python benchmarks/grammar_decoding.py --model models/gguf/model-Q4_K_M.gguf --threads 2
"""

from __future__ import annotations

import argparse
import ctypes
import json
import time
from pathlib import Path

import llama_cpp
import numpy as np

from nava_instruct import layout
from nava_instruct.lm import grammar_sampling, llamacpp, prompting
from nava_instruct.lm.grammar import nava_grammar
from nava_instruct.nava import gbnf_grammar

EXTERNAL = Path("/work/shared/external")
FILES = ("nava_instruct_eval.handwritten.jsonl", "nava_instruct_train.handwritten.jsonl")
MODES = ("no grammar", "stock grammar", "fast grammar")


def instructions(folder: Path, count: int) -> list[str]:
    """The first ``count`` hand-written instructions that ask for code from words alone."""
    rows = [json.loads(line) for name in FILES for line in (folder / name).read_text().splitlines() if line.strip()]
    return [row["instruction"] for row in rows if not row["input"]][:count]


def answer(llm: llama_cpp.Llama, prompt: list[int], grammar, max_tokens: int) -> tuple[str, int, float]:
    """Greedy text, its token count, and the seconds taken after the prompt was evaluated."""
    llm.reset()
    llm.eval(prompt)
    started = time.perf_counter()
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, grammar=grammar)
    return out["choices"][0]["text"], out["usage"]["completion_tokens"], time.perf_counter() - started


def grammar_apply_seconds(llm: llama_cpp.Llama, prompt: list[int], text_tokens: list[int]) -> tuple[float, float]:
    """Mean seconds of one grammar apply over the whole vocabulary and over a single token, along an answer."""
    grammar = llama_cpp.llama_cpp.llama_sampler_init_grammar(llm._model.vocab, gbnf_grammar().encode("utf-8"), b"root")
    vocab = np.zeros(llm.n_vocab(), dtype=grammar_sampling.TOKEN_DATA)
    full, single = [], []
    for token in text_tokens:
        vocab["id"] = np.arange(len(vocab))
        vocab["logit"] = 0.0
        array = llama_cpp.llama_token_data_array(
            data=vocab.ctypes.data_as(llama_cpp.llama_token_data_p), size=len(vocab), selected=-1, sorted=False
        )
        started = time.perf_counter()
        llama_cpp.llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        full.append(time.perf_counter() - started)
        one = llama_cpp.llama_token_data(id=token, logit=0.0, p=0.0)
        array = llama_cpp.llama_token_data_array(data=ctypes.pointer(one), size=1, selected=-1, sorted=False)
        started = time.perf_counter()
        llama_cpp.llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        single.append(time.perf_counter() - started)
        llama_cpp.llama_cpp.llama_sampler_accept(grammar, token)
    llama_cpp.llama_cpp.llama_sampler_free(grammar)
    return float(np.mean(full)), float(np.mean(single))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(layout.served_model()), help="GGUF file (default: %(default)s)")
    parser.add_argument(
        "--tokenizer", default=layout.paths().merged, help="the folder whose tokenizer renders (default: %(default)s)"
    )
    parser.add_argument(
        "--data", type=Path, default=EXTERNAL, help=f"the folder of {' and '.join(FILES)} (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    fast = llamacpp.load(args.model, n_ctx=2048, n_threads=args.threads)
    stock = llamacpp.load(args.model, n_ctx=2048, n_threads=args.threads, stock_grammar=True)
    grammar = nava_grammar()
    runs = {"no grammar": (fast, None), "stock grammar": (stock, grammar), "fast grammar": (fast, grammar)}

    tokens = dict.fromkeys(MODES, 0)
    seconds = dict.fromkeys(MODES, 0.0)
    same_text = True
    full_checks = 0  # fast-path steps whose greedy token the grammar refused
    apply_full, apply_single = [], []
    for instruction in instructions(args.data, args.prompts):
        text = prompting.render({"instruction": instruction, "input": "", "output": ""}, tokenizer, "instruction")[0]
        prompt = llamacpp.prompt_tokens(fast, text)
        texts = {}
        for mode in MODES:  # interleaved per prompt, so a load on the machine falls on all modes alike
            llm, mode_grammar = runs[mode]
            texts[mode], count, took = answer(llm, prompt, mode_grammar, args.max_tokens)
            tokens[mode] += count
            seconds[mode] += took
        full_checks += fast._sampler.full_checks
        same_text &= texts["fast grammar"] == texts["stock grammar"]
        full, single = grammar_apply_seconds(
            fast, prompt, fast.tokenize(texts["stock grammar"].encode(), add_bos=False)
        )
        apply_full.append(full)
        apply_single.append(single)

    print(f"{'mode':<14} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'time/token vs none':>19}")
    base = seconds["no grammar"] / tokens["no grammar"]
    for mode in MODES:
        per_token = seconds[mode] / tokens[mode]
        print(f"{mode:<14} {tokens[mode]:>7} {seconds[mode]:>8.2f} {1 / per_token:>9.1f} {per_token / base:>18.2f}x")
    print(f"fast grammar steps that checked the whole vocabulary: {full_checks} of {tokens['fast grammar']}")
    print(f"fast grammar text identical to stock grammar text on every prompt: {same_text}")
    print(
        f"grammar apply per step: all {fast.n_vocab()} tokens {np.mean(apply_full) * 1e3:.2f} ms, "
        f"one token {np.mean(apply_single) * 1e6:.1f} µs"
    )
    return 0 if same_text else 1


if __name__ == "__main__":
    raise SystemExit(main())
