"""The NAVA grammar as llama.cpp takes it: the GBNF text generated from nava.lark, parsed once.

Samplers only read a parsed grammar, so every request and sequence of the server and of stage
``evaluate`` shares this one. Apart from ``llamacpp`` so that what loads a model (stage ``parity``
too) does not run the NAVA toolkit.
"""

from __future__ import annotations

import functools

import llama_cpp

from nava_instruct.nava import gbnf_grammar


@functools.cache
def nava_grammar() -> llama_cpp.LlamaGrammar:
    return llama_cpp.LlamaGrammar.from_string(gbnf_grammar(), verbose=False)
