"""Follow-ups in a chat: a second user message that changes the program of the answer before it.

A follow-up example is a short conversation: a request in a user's words, the program that answers
it, then a change asked in the next message ("Now add a pillar at (2, 2) of radius 0.5.", "OK, now
make it the fastest path, top speed 2."): an edit (``synth.edits``) said as the next turn of a chat.
The first two messages are the example's ``history``; ``lm.prompting`` renders them as the server's
chat route renders a conversation, so the model is trained on what it is asked.
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import Problem
from nava_instruct.synth import edits
from nava_instruct.synth.render import Style

# The next message of a chat: it speaks of the answer just given, never of "this program below".
STATEMENTS = ("{Op}.", "Now {op}.", "OK, now {op}.", "Thanks! Now {op}.", "Great, now {op}.", "One more thing: {op}.")
QUESTIONS = ("Can you also {op}?", "Now could you {op}?")


def request(rng: random.Random, problem: Problem, style: Style) -> tuple[str, Problem, Style]:
    """(the follow-up message, the edited problem, the style for the edited program)."""
    operation, single, problem, style = edits.change(rng, problem, style)
    return edits.framed(rng, operation, single, STATEMENTS, QUESTIONS), problem, style


def history(asked: str, program: str) -> list[dict]:
    """The conversation before the follow-up: the request and the program that answered it."""
    return [{"role": "user", "content": asked}, {"role": "assistant", "content": program}]
