"""Grammar-constrained sampling that checks the grammar on the chosen token first.

llama-cpp-python puts the grammar sampler into the sampler chain before greedy/top-k, so llama.cpp
matches every one of the vocabulary's tokens against the grammar at every step (for a 49152-token
vocabulary that is most of the time of a step). ``GrammarFirstCheckLlama`` samples as llama.cpp's own
common sampler does instead: the token is picked without the grammar, then only that token is
checked; only if the grammar rejects it is the grammar applied to all candidates and the token picked
again.

Greedy decoding gives exactly the tokens of the stock path: the unconstrained argmax, when allowed,
is also the argmax over the allowed tokens. With temperature the first draw comes from the whole
distribution (after top-k/top-p), so the draws, and the seeded random stream, differ from the stock
path's; a rejected draw falls back to the stock masked distribution.
"""

from __future__ import annotations

import ctypes
import math

import llama_cpp
import numpy as np
from llama_cpp import _internals

bindings = llama_cpp.llama_cpp

TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GrammarFirstCheckLlama(llama_cpp.Llama):
    """A ``Llama`` whose grammar-constrained requests use ``ChosenTokenGrammarSampler``."""

    def _init_sampler(self, *, grammar: llama_cpp.LlamaGrammar | None = None, **sampling):
        chain = super()._init_sampler(grammar=None, **sampling)
        if grammar is None:
            return chain
        return ChosenTokenGrammarSampler(chain, self._model, grammar, self._n_vocab)


class ChosenTokenGrammarSampler:
    """The sampler chain without the grammar, and a grammar sampler consulted on its choice.

    One is built per request (as llama-cpp-python builds its chain), so the grammar starts afresh.
    It offers what ``Llama.sample`` uses of a ``LlamaSampler``: ``sample(ctx, idx)`` and ``close()``.
    """

    def __init__(
        self,
        chain: _internals.LlamaSampler,
        model: _internals.LlamaModel,
        grammar: llama_cpp.LlamaGrammar,
        n_vocab: int,
    ):
        self.chain = chain
        self.grammar = bindings.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self.grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.token_ids = np.arange(n_vocab, dtype=np.intc)
        self.candidates = np.zeros(n_vocab, dtype=TOKEN_DATA)
        self.full_checks = 0  # how often the chosen token was rejected and the whole vocabulary checked

    def sample(self, ctx: _internals.LlamaContext, idx: int = -1) -> int:
        """Pick the next token at output ``idx`` and advance the chain and the grammar past it."""
        token = self._pick(ctx, idx, masked=False)
        if not self.allows(token):
            self.full_checks += 1
            token = self._pick(ctx, idx, masked=True)
        bindings.llama_sampler_accept(self.grammar, token)
        bindings.llama_sampler_accept(self.chain.sampler, token)
        return token

    def allows(self, token: int) -> bool:
        """Whether the grammar, in its current state, lets ``token`` come next."""
        single = llama_cpp.llama_token_data(id=token, logit=0.0, p=0.0)
        array = llama_cpp.llama_token_data_array(data=ctypes.pointer(single), size=1, selected=-1, sorted=False)
        bindings.llama_sampler_apply(self.grammar, ctypes.byref(array))
        return not math.isinf(single.logit)

    def _pick(self, ctx: _internals.LlamaContext, idx: int, masked: bool) -> int:
        array = self._fresh_candidates(ctx, idx)
        if masked:
            bindings.llama_sampler_apply(self.grammar, ctypes.byref(array))
        bindings.llama_sampler_apply(self.chain.sampler, ctypes.byref(array))
        return int(array.data[array.selected].id)

    def _fresh_candidates(self, ctx: _internals.LlamaContext, idx: int) -> llama_cpp.llama_token_data_array:
        logits = bindings.llama_get_logits_ith(ctx.ctx, idx)
        # Samplers sort and shrink the array in place, so every pick starts from the raw logits again.
        self.candidates["id"] = self.token_ids
        self.candidates["logit"] = np.ctypeslib.as_array(logits, shape=(len(self.candidates),))
        self.candidates["p"] = 0.0
        data = self.candidates.ctypes.data_as(llama_cpp.llama_token_data_p)
        return llama_cpp.llama_token_data_array(data=data, size=len(self.candidates), selected=-1, sorted=False)

    def close(self) -> None:
        if self.grammar:
            bindings.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()

    def __del__(self):
        self.close()
