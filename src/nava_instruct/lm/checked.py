"""The checker in the loop: a code answer that the NAVA checker rejects is tried again, within bounds.

Attempt 1 is the normal, greedy answer. If it is code and has a checker error, more attempts are
made, by the policy's mode:

- ``sample``: the same prompt sampled at ``temperature``, with a distinct seed each time;
- ``repair``: the model is asked to fix the latest broken program, in the fix family's words, with
  the checker's error lines (and the original request, where there is one); the first repair is
  greedy, later ones sampled, since a greedy repair of the same program would only repeat itself;
- ``both``: repair and sample in turn, a repair first;
- ``off``: no loop.

With ``meaning`` on (and the request given), an answer that checks is also held against the request
(``judge_for``: the meaning checks of ``reading.claims``); one that checks but contradicts it (a
number it does not state, an obstacle where it says none, no comments where it asks for them,
another manifold than the one it names) is tried again too, by sampling, since the repair prompt
speaks of checker errors only.

It stops at the first answer accepted (it checks, and the judge finds no contradiction), after
``max_attempts``, or when ``seconds`` have passed (checked before each attempt, so a call ends within
``seconds`` plus one generation). If none is accepted, the first answer that checks is kept, else
the first answer, and ``checked`` says whether the kept one checks. The attempts before the first
answer that checks are those a loop without a judge makes, so one run gives the greedy answer, the
checker loop's (``checker_kept``) and the meaning-checked loop's (``kept``). An answer that is not code
(an explanation) is returned untouched after one attempt, unless the caller says code was asked for.

``answer`` knows nothing of HTTP or of a model: the caller passes ``generate(prompt, temperature,
seed) -> text`` and, for repairs, ``repair_prompt(example) -> prompt``, which renders the repair
(``repair_example``, an example of the fix family) in the caller's own prompt type (token ids, a
text) as it renders any other request. ``decode`` runs the loop on ``lm.parallel``'s decoder: the
one way the server and stage ``evaluate`` answer code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from nava_instruct import nava
from nava_instruct.nava import repair
from nava_instruct.nava.diagnostics import errors
from nava_instruct.nava.scoring import CODE_LINE, extract_code, parses
from nava_instruct.reading import claims

if TYPE_CHECKING:
    from nava_instruct.lm import parallel

Mode = Literal["off", "sample", "repair", "both"]
How = Literal["greedy", "sample", "repair"]
MODES: tuple[str, ...] = get_args(Mode)

NOT_CODE = "the answer is not a NAVA program"

Prompt = TypeVar("Prompt")
Judge = Callable[[str], list[str]]  # an answer that checks -> its contradictions of the request


@dataclass(frozen=True)
class Policy:
    """How the loop tries again; the defaults are the server's (``nava-instruct serve --check-*``)."""

    mode: Mode = "repair"
    max_attempts: int = 4
    seconds: float | None = 30.0  # no new attempt after this; None: no deadline
    temperature: float = 0.7  # of sampled attempts
    seed: int = 0  # attempt k (the greedy one is 1) uses seed + k - 1
    meaning: bool = True  # also try again while an answer contradicts the request (reading.claims)


@dataclass(frozen=True)
class Attempt:
    how: How
    answer: str
    errors: list[str]  # the checker's error lines; empty when the answer checks
    code: bool = True  # a sampled or repaired attempt may come back as prose
    contradictions: list[str] = field(default_factory=list)  # the judge's, of an answer that checks

    @property
    def accepted(self) -> bool:
        return not self.errors and not self.contradictions

    def record(self) -> dict:
        return {
            "how": self.how,
            "error": self.errors[0] if self.errors else None,
            "contradiction": self.contradictions[0] if self.contradictions else None,
        }


@dataclass
class Checked:
    """The answer kept and how it was arrived at; ``checked`` is None when the answer is not code."""

    attempts: list[Attempt] = field(default_factory=list)
    kept: int = 0  # index of the kept attempt
    checked: bool | None = None

    @property
    def answer(self) -> str:
        return self.attempts[self.kept].answer

    @property
    def checker_kept(self) -> int:
        """The attempt a loop without a judge keeps: the first that checks, else the first."""
        return next((index for index, attempt in enumerate(self.attempts) if not attempt.errors), 0)

    @property
    def agrees(self) -> bool | None:
        """Whether the kept answer checks and the judge finds no contradiction; None when not code."""
        return None if self.checked is None else self.attempts[self.kept].accepted

    @property
    def first_answer(self) -> str:
        return self.attempts[0].answer

    def record(self) -> dict:
        return {
            "attempts": len(self.attempts),
            "checked": self.checked,
            "first_checked": None if self.checked is None else not self.attempts[0].errors,
            "agrees": self.agrees,
            "tries": [attempt.record() for attempt in self.attempts],
        }


def is_code(answer: str) -> bool:
    """Whether an answer is a program: it has a line of NAVA code (scoring's test for code in an
    explanation), or its program parses. A program cut off at max_tokens does not parse but is code; an
    empty answer is not."""
    return bool(CODE_LINE.search(answer)) or (bool(answer.strip()) and parses(extract_code(answer)))


def check_errors(answer: str) -> list[str]:
    """The checker's error lines for the program in an answer, as the fix family quotes them."""
    return repair.diagnostic_lines(errors(nava.check(extract_code(answer))))


def next_how(mode: Mode, attempt: int) -> How:
    """How attempt ``attempt`` (1 is the greedy one) is made."""
    if mode == "both":
        return "repair" if attempt % 2 == 0 else "sample"
    return mode


def judge_for(request: str | None, context: str = "") -> Judge | None:
    """The meaning checks of ``request`` (``reading.claims``), the numbers of ``context`` counting as stated."""
    if request is None:
        return None
    stated = claims.read(request, context)
    return lambda answer: claims.contradictions(stated, answer)


def repair_example(request: str | None, broken: Attempt) -> dict:
    """The repair of ``broken`` as an example of the fix family: the checker's errors after the original
    ``request`` (``nava.repair``'s wording) as the instruction, the broken program as the input."""
    instruction = repair.repair_instruction(request, broken.errors)
    return {"instruction": instruction, "input": extract_code(broken.answer), "output": ""}


def answer(
    generate: Callable[[Prompt, float, int], str],
    prompt: Prompt,
    policy: Policy,
    *,
    request: str | None = None,
    repair_prompt: Callable[[dict], Prompt] | None = None,
    context: str = "",
    code_asked: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> Checked:
    """Answer ``prompt``, trying again while the code does not check or the judge finds a contradiction
    (see the module docstring).

    ``request`` is what was asked, in words, for the repair prompt and the meaning checks, which count
    the numbers of ``context`` (the program an edit is about, earlier turns) as stated; ``repair_prompt`` renders a
    ``repair_example`` as a prompt, and is required for the ``repair`` and ``both`` modes. With
    ``code_asked`` a first answer that is not code is a failed attempt rather than an explanation to
    pass through.
    """
    if policy.mode in ("repair", "both") and repair_prompt is None:
        raise ValueError(f"mode {policy.mode!r} needs a repair_prompt")
    started = clock()
    judge = judge_for(request, context) if policy.meaning else None
    first = generate(prompt, 0.0, policy.seed)
    if not is_code(first) and not code_asked:
        return Checked([Attempt("greedy", first, [], code=False)])
    result = Checked([graded("greedy", first, judge)])
    while not result.attempts[-1].accepted and policy.mode != "off" and len(result.attempts) < policy.max_attempts:
        if policy.seconds is not None and clock() - started >= policy.seconds:
            break
        result.attempts.append(next_attempt(generate, prompt, policy, result.attempts, request, repair_prompt, judge))
    accepted = [index for index, attempt in enumerate(result.attempts) if attempt.accepted]
    result.kept = accepted[0] if accepted else result.checker_kept
    result.checked = not result.attempts[result.kept].errors
    return result


def next_attempt(generate, prompt, policy: Policy, attempts: list[Attempt], request, repair_prompt, judge) -> Attempt:
    number = len(attempts) + 1
    programs = [attempt for attempt in attempts if attempt.code]
    # With no program there is nothing to repair; a program that checks but contradicts the request is
    # resampled, as the repair prompt quotes checker errors only.
    repairable = programs and programs[-1].errors
    how = next_how(policy.mode, number) if repairable else "sample"
    seed = policy.seed + number - 1
    if how == "repair":
        first_repair = not any(attempt.how == "repair" for attempt in attempts)
        temperature = 0.0 if first_repair else policy.temperature
        text = generate(repair_prompt(repair_example(request, programs[-1])), temperature, seed)
    else:
        text = generate(prompt, policy.temperature, seed)
    return graded(how, text, judge)


def graded(how: How, text: str, judge: Judge | None = None) -> Attempt:
    if not is_code(text):
        return Attempt(how, text, [NOT_CODE], code=False)
    errors_found = check_errors(text)
    contradictions = judge(text) if judge is not None and not errors_found else []
    return Attempt(how, text, errors_found, contradictions=contradictions)


def decode(
    decoder: parallel.ParallelDecoder,
    prompt: list[int],
    sampling: parallel.Sampling,
    policy: Policy,
    *,
    request: str | None = None,
    repair_prompt: Callable[[dict], list[int]] | None = None,
    context: str = "",
    code_asked: bool = False,
) -> tuple[list[parallel.Generated], Checked]:
    """``answer`` on the parallel decoder: every attempt's generation, in order, and the loop's result (the
    generation kept is ``generations[result.kept]``).

    Attempt 1 is ``sampling`` as given (the request as sent: an answer that checks is the one it would get
    without the loop); later attempts take the loop's temperature and seed. Each gets the room its prompt
    leaves in a slot, since a repair prompt is longer than the request.
    """
    generations: list[parallel.Generated] = []

    def generate(ids: list[int], temperature: float, seed: int) -> str:
        attempt = replace(sampling, temperature=temperature, seed=seed) if generations else sampling
        generations.append(decoder.generate_in_room(ids, attempt))
        return generations[-1].text

    result = answer(
        generate, prompt, policy, request=request, repair_prompt=repair_prompt, context=context, code_asked=code_asked
    )
    return generations, result
