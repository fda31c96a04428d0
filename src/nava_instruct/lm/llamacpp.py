"""Loading a GGUF model with llama-cpp-python, and tokenizing prompts the way training did.

Every GGUF that the parity stage measures and the server serves is opened by ``load``, so the
numbers in ``metrics/parity.json`` describe the model as served.

``cpu_repack``: llama.cpp normally moves quantized weights into "extra" CPU buffers, repacked
for the CPU's matrix instructions (AVX2/AVX-512 layouts, Intel AMX tiles). On some virtual
machines that advertise AMX, the AMX kernels crash the process with a general protection fault
on the first prompt of more than one token (seen on the development machine, with the
llama-cpp-python build of requirements.lock). It is therefore off unless asked for; turning it
on speeds up prompt processing of quantized models on machines where it works.

Grammar-constrained requests (``grammar=``) are sampled by ``grammar_sampling.GrammarFirstCheckLlama``,
the class ``load`` returns: the grammar checks the token the sampler chose, and the whole vocabulary
only when it rejects that token, instead of every token at every step. Greedy output is the same as
llama-cpp-python's own grammar path, at a fraction of its cost (figures in docs/serving.md).
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp

from nava_instruct.errors import InputError
from nava_instruct.lm.grammar_sampling import GrammarFirstCheckLlama


def load(
    path: str | Path,
    *,
    n_ctx: int = 0,
    logits_all: bool = False,
    cpu_repack: bool = False,
    stock_grammar: bool = False,
    **kwargs,
) -> llama_cpp.Llama:
    """Open a GGUF file; ``n_ctx=0`` takes the model's own context length.

    ``stock_grammar=True`` gives a plain ``llama_cpp.Llama``, which checks every token against a grammar
    at every step: the reference that benchmarks and tests compare the fast grammar path with.
    """
    if not Path(path).is_file():
        raise InputError(path, "GGUF model not found: run `nava-instruct convert` (or `dvc repro convert`) first")
    bindings = llama_cpp.llama_cpp
    defaults = bindings.llama_model_default_params

    def model_params():
        params = defaults()
        params.use_extra_bufts = cpu_repack
        return params

    # Llama() has no argument for this model parameter; it starts from the bindings' defaults,
    # which are swapped for the time of the load.
    bindings.llama_model_default_params = model_params
    llama_class = llama_cpp.Llama if stock_grammar else GrammarFirstCheckLlama
    try:
        return llama_class(str(path), n_ctx=n_ctx, logits_all=logits_all, verbose=False, **kwargs)
    finally:
        bindings.llama_model_default_params = defaults


def prompt_tokens(llama: llama_cpp.Llama, text: str) -> list[int]:
    """Token ids of a prompt text, as ``prompting.prompt_ids`` gives them on the HF side.

    Special tokens written in the text (BOS, turn markers) become their ids and nothing is added:
    the text alone fixes the tokens, as in training.
    """
    return llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
