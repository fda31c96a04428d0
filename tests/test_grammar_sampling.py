"""The chosen-token-first grammar check against llama-cpp-python's own grammar path, on the tiny GGUF."""

from __future__ import annotations

import itertools

import llama_cpp
import pytest

from helpers import PROMPTS, nava_prefix
from nava_instruct.lm import llamacpp
from nava_instruct.lm.grammar import nava_grammar
from nava_instruct.lm.grammar_sampling import ChosenTokenGrammarSampler, GrammarFirstCheckLlama


@pytest.fixture(scope="module")
def llamas(tiny_smol_stages):
    path = tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf"
    return llamacpp.load(path, n_ctx=256), llamacpp.load(path, n_ctx=256, stock_grammar=True)


@pytest.fixture(scope="module")
def grammar():
    return nava_grammar()


def greedy_tokens(llm: llama_cpp.Llama, prompt: str, count: int, grammar=None) -> list[int]:
    llm.reset()
    tokens = llm.generate(llamacpp.prompt_tokens(llm, prompt), temp=0.0, grammar=grammar)
    return list(itertools.islice(tokens, count))


def test_load_gives_the_fast_path_and_stock_on_request(llamas):
    fast, stock = llamas
    assert type(fast) is GrammarFirstCheckLlama and type(stock) is llama_cpp.Llama


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("count", [1, 6, 40])
def test_greedy_tokens_equal_the_stock_path(llamas, grammar, prompt, count):
    fast, stock = llamas
    assert greedy_tokens(fast, prompt, count, grammar) == greedy_tokens(stock, prompt, count, grammar)
    assert greedy_tokens(fast, prompt, count) == greedy_tokens(stock, prompt, count)


def test_grammar_overrides_the_free_choice(llamas, grammar):
    fast, stock = llamas
    free = greedy_tokens(fast, PROMPTS[0], 40)
    constrained = greedy_tokens(fast, PROMPTS[0], 40, grammar)
    assert constrained != free  # the free argmax is refused at some step ...
    assert isinstance(fast._sampler, ChosenTokenGrammarSampler) and fast._sampler.full_checks > 0
    assert constrained == greedy_tokens(stock, PROMPTS[0], 40, grammar)  # ... and the allowed argmax taken instead
    assert nava_prefix(fast.detokenize(constrained).decode()) and not nava_prefix(fast.detokenize(free).decode())


def test_each_request_starts_the_grammar_afresh(llamas, grammar):
    fast, _ = llamas
    first = fast.create_completion(PROMPTS[0], max_tokens=24, temperature=0.0, grammar=grammar)["choices"][0]["text"]
    fast.create_completion(PROMPTS[1], max_tokens=24, temperature=0.0)
    again = fast.create_completion(PROMPTS[0], max_tokens=24, temperature=0.0, grammar=grammar)["choices"][0]["text"]
    assert again == first and nava_prefix(first)


def test_sampled_text_keeps_to_the_grammar(llamas, grammar):
    fast, _ = llamas
    for seed in range(3):
        out = fast.create_completion(PROMPTS[0], max_tokens=32, temperature=1.0, seed=seed, grammar=grammar)
        assert nava_prefix(out["choices"][0]["text"])
