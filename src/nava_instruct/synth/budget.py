"""The length budget of every generated output: it must fit in the answer the fine-tuned model may give.

Stage evaluate (and serve) stop an answer after ``MAX_NEW_TOKENS`` tokens (``evaluate.max_new_tokens`` in
params.yaml), so an output longer than that teaches the model answers that are cut off. Every output stays
within ``OUTPUT_TOKEN_BUDGET``, a margin below it, counted by :func:`token_estimate`.

Characters alone are no measure: SmolLM2's tokenizer puts every digit apart, so a program full of
coordinates and seven-decimal angles runs at 1.5 to 2.3 characters a token, prose at about 3.4 (a
700-character program can take 375 tokens). The estimate counts the pieces the tokenizer starts from: each
digit, each punctuation mark and each run of spaces is one token, a word one token per eight letters. On
generated outputs the SmolLM2 token count is 0.87 to 1.02 times the estimate (tests/test_generate.py
checks it against the real tokenizer).
"""

from __future__ import annotations

import re

MAX_NEW_TOKENS = 320  # evaluate.max_new_tokens: where an answer is cut off
OUTPUT_TOKEN_BUDGET = 300  # estimated tokens: at most about 305 real ones, so an answer ends well before the cut
LETTERS_PER_TOKEN = 8
# A digit, a word or a run of marks (each with the space before it), an underscore, a run of spaces.
_PIECE = re.compile(r"\d| ?[^\W\d_]+| ?[^\s\w]+|_|\s+(?!\S)|\s+")


def token_estimate(text: str) -> int:
    """About how many SmolLM2 tokens ``text`` takes, rather more than fewer (see the module's docstring)."""
    return sum(_piece_tokens(piece.strip()) for piece in _PIECE.findall(text))


def _piece_tokens(piece: str) -> int:
    """A word: one token per ``LETTERS_PER_TOKEN`` letters; a run of marks: one per mark; else (a digit, spaces) one."""
    if piece.isalpha():
        return 1 + (len(piece) - 1) // LETTERS_PER_TOKEN
    return len(piece) if piece and not piece.isdigit() else 1


def fits(text: str) -> bool:
    """Whether ``text`` is within the output budget."""
    return token_estimate(text) <= OUTPUT_TOKEN_BUDGET
