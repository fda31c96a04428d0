"""Angles stated in units NAVA does not use, with their exact value in radians beside them.

The language has no operators, so ``pi/3`` or ``30 degrees`` must become ``1.0471976`` in code: a
conversion a small model cannot compute, only memorise. ``annotate`` leaves the user's words as they
are and writes the value to copy right after each such phrase::

    heading 30° and yaw 3pi/4  ->  heading 30° (= 0.5235988 rad) and yaw 3pi/4 (= 2.3561945 rad)

It is the one reader of those phrases (``stated_numbers`` reads a text's numbers through it, for
the meaning checks and for scoring explanations): ``lm.prompting`` applies it to every request before the
model sees it (when training on generated examples, in evaluation, in the server), so the model
learns to copy and is asked the same way it learned.

What it reads: a number with ``°``, ``deg``, ``degree(s)`` (digits or words up to three hundred and
sixty); ``pi`` or ``π`` with a sign, a coefficient (``3pi``, ``2 * pi``, ``1.5π``, ``3/4 pi``) and a
divisor (``pi/2``, ``pi / 2``, ``pi over 3``); quarter, half, three-quarter and full turns; both ends
of a range (``30°..60°``) and an angle before an arrow (``pi->pi/2``). It leaves
alone what is not an angle in other units: radians (already the language's unit), counts, lengths,
"degrees of freedom", temperatures, "Raspberry Pi", "pi-shaped", words that contain "pi", and
anything inside a fenced code block or already annotated. Values keep seven decimals, as the
generator writes angles in code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

DECIMALS = 7

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
TURNS = {"quarter": Fraction(1, 4), "half": Fraction(1, 2), "three-quarter": Fraction(3, 4), "full": Fraction(1)}

_UNIT = "|".join(UNITS)
_TENS = "|".join(TENS)
_BELOW_100 = rf"(?:(?:{_TENS})(?:[- ](?:{_UNIT}))?|{_UNIT})"
WORD_NUMBER = rf"(?:(?:(?:a|one|two|three)\s+hundred)(?:\s+(?:and\s+)?{_BELOW_100})?|{_BELOW_100})"
SIGN = r"(?P<sign>-|−|minus\s+|negative\s+)?"
DIGITS = r"\d+(?:\.\d+)?"
NOT_MID_WORD_OR_NUMBER = r"(?:(?<![\w.])|(?<=\.\.))"  # "1.5" is not read as "5"; "30°..60°" is two angles
NOT_AN_ANGLE_AFTER = r"(?!\s*(?:of\s+freedom|celsius|fahrenheit|kelvin|[CF]\b))"

DEGREES = re.compile(
    rf"{NOT_MID_WORD_OR_NUMBER}{SIGN}(?P<amount>{DIGITS}|{WORD_NUMBER})[\s-]*(?:°|º|degrees?\b|degs?\b)"
    + NOT_AN_ANGLE_AFTER,
    re.IGNORECASE,
)
PI = re.compile(
    rf"{NOT_MID_WORD_OR_NUMBER}{SIGN}"
    rf"(?:(?P<ratio>\d+\s*/\s*\d+)\s*\*?\s*|\(\s*(?P<paren>\d+\s*/\s*\d+)\s*\)\s*\*?\s*|(?P<coef>{DIGITS})\s*\*?\s*)?"
    r"(?P<pi>pi|π)(?!\w|-\w)"
    r"(?:\s*(?:/|over\s)\s*(?P<divisor>\d+(?:\.\d+)?|two|three|four|six|twelve))?"
    r"(?:\s*(?:rad|radians?)\b)?",
    re.IGNORECASE,
)
TURN = re.compile(r"\b(?:an?\s+)?(?P<part>quarter|half|three-quarter|full)(?:\s+a)?[\s-]+turn\b", re.IGNORECASE)
FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
ANNOTATION = re.compile(r"\s*\(= -?\d+\.\d+ rad\)")
NUMBER = re.compile(rf"{NOT_MID_WORD_OR_NUMBER}[-−]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE]-?\d+)?")
NOT_PI_BEFORE = re.compile(r"raspberry\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    """An angle phrase of a request: where it is, what it says, and its value in radians."""

    start: int
    end: int
    phrase: str
    radians: float

    @property
    def value_text(self) -> str:
        return radians_text(self.radians)


def radians_text(value: float) -> str:
    """A value in radians as the generator writes angles in code: seven decimals, shortest form."""
    return repr(round(value, DECIMALS) + 0.0)


def word_number(text: str) -> int:
    """``forty-five`` -> 45, ``a hundred and eighty`` -> 180."""
    total = 0
    for word in re.split(r"[\s-]+", text.lower()):
        if word in UNITS:
            total += UNITS[word]
        elif word in TENS:
            total += TENS[word]
        elif word == "hundred":
            total = max(total, 1) * 100
    return total


def amount(text: str) -> float:
    return float(text) if text[0].isdigit() else float(word_number(text))


def signed(match: re.Match, value: float) -> float:
    return -value if match.group("sign") else value


def pi_multiple(match: re.Match) -> float | None:
    """The value of a pi expression, or None for a bare capitalised "Pi"/"PI" (a name, not an angle)."""
    ratio, coef, divisor = match.group("ratio") or match.group("paren"), match.group("coef"), match.group("divisor")
    bare = not (ratio or coef or divisor or match.group("sign"))
    if bare and match.group("pi") not in ("pi", "π"):
        return None
    factor = Fraction(1)
    if ratio:
        numerator, denominator = (int(part) for part in ratio.split("/"))
        factor = Fraction(numerator, denominator) if denominator else None
    elif coef:
        factor = Fraction(coef)
    if divisor:
        divide_by = Fraction(divisor) if divisor[0].isdigit() else Fraction(word_number(divisor))
        factor = factor / divide_by if divide_by and factor is not None else None
    return None if factor is None else signed(match, float(factor) * math.pi)


def _candidates(text: str) -> list[Quantity]:
    found = [
        Quantity(m.start(), m.end(), m.group(0), signed(m, math.radians(amount(m.group("amount")))))
        for m in DEGREES.finditer(text)
    ]
    for m in PI.finditer(text):
        value = pi_multiple(m)
        if value is not None and not NOT_PI_BEFORE.search(text, 0, m.start()):
            found.append(Quantity(m.start(), m.end(), m.group(0), value))
    found += [
        Quantity(m.start(), m.end(), m.group(0), float(TURNS[m.group("part").lower()]) * 2 * math.pi)
        for m in TURN.finditer(text)
    ]
    return found


def find(text: str) -> list[Quantity]:
    """Every angle phrase in ``text`` that is not in radians, in order, outside code blocks and annotations."""
    blocked = [(m.start(), m.end()) for m in FENCE.finditer(text)]
    chosen: list[Quantity] = []
    for quantity in sorted(_candidates(text), key=lambda q: (q.start, -q.end)):
        inside = any(start <= quantity.start < end for start, end in blocked)
        overlaps = chosen and quantity.start < chosen[-1].end
        if not inside and not overlaps and not ANNOTATION.match(text, quantity.end):
            chosen.append(quantity)
    return chosen


def annotate(text: str) -> str:
    """``text`` with ``(= <radians> rad)`` after every angle phrase that ``find`` reads; idempotent."""
    pieces, at = [], 0
    for quantity in find(text):
        pieces += [text[at : quantity.end], f" (= {quantity.value_text} rad)"]
        at = quantity.end
    return "".join(pieces) + text[at:]


def stated_numbers(text: str) -> list[float]:
    """The numbers of a text in order, each angle phrase (``30°``, ``3pi/4``) read as its value in radians."""
    values, at = [], 0
    for quantity in find(text):
        values += _plain_numbers(text[at : quantity.start])
        values.append(quantity.radians)
        at = quantity.end
    return values + _plain_numbers(text[at:])


def _plain_numbers(text: str) -> list[float]:
    return [float(found.replace("−", "-")) for found in NUMBER.findall(text)]
