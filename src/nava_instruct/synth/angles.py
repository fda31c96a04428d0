"""The angles the generator draws, and how to tell which exact forms state each one.

Every angle is of one of three kinds and is only ever stated in a form that gives it exactly:

- ``degrees``: a whole number of degrees in the range drawn, stated in degrees (``37 degrees``,
  ``37°``, ``37 deg``, ``-120°``); the program holds ``round(radians(d), 7)``;
- ``pi``: ``k*pi/n`` with ``n`` in :data:`DENOMINATORS` and ``k`` coprime to ``n``, stated as a
  pi-fraction (``3pi/5``, ``2π/9``, ``-pi/4``, ``pi``) or in degrees where those are whole
  (``pi/5`` is ``36°``); the program holds ``round(k*pi/n, 7)``;
- ``radians``: a number of radians with one or two decimals (``0.35``, ``1.2``, ``-2.05``), stated
  in radians (``0.35 rad``, ``1.2 radians``, or bare where the unit is plain, ``θ = 0.35``); the
  program holds the number as written.

Degrees and pi-fractions are what ``reading.quantities`` annotates with their radians when a request
is shown to the model, and radians are copied as written, so every angle of a program is a number
the model reads in its prompt. No angle is ever stated as a rounded decimal of a degree or pi value.
A problem draws one kind for all its angles most of the time (:func:`problem_kind`).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

KINDS = ("degrees", "pi", "radians")
KIND_WEIGHTS = (0.35, 0.35, 0.3)
MIXED_SHARE = 0.1  # problems whose every angle draws its own kind
DENOMINATORS = (1, 2, 3, 4, 5, 6, 8, 9, 10, 12)
DECIMALS = 7  # places of an angle in code
TOLERANCE = 1e-9


def of_degrees(degrees: int) -> float:
    """``degrees`` in radians, rounded as code writes angles."""
    return round(math.radians(degrees), DECIMALS) + 0.0


def of_pi_fraction(fraction: Fraction) -> float:
    """``fraction * pi`` in radians, rounded as code writes angles."""
    return round(float(fraction) * math.pi, DECIMALS) + 0.0


def problem_kind(rng: random.Random) -> str | None:
    """The kind of every angle of a new problem, or None where each angle draws its own."""
    return None if rng.random() < MIXED_SHARE else rng.choices(KINDS, weights=KIND_WEIGHTS)[0]


def draw(rng: random.Random, low: float, high: float, kind: str | None = None) -> float:
    """An angle of ``kind`` (drawn if None) between ``low`` and ``high`` degrees, as code writes it."""
    kind = kind or rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
    if kind == "degrees":
        return of_degrees(rng.randint(math.ceil(low), math.floor(high)))
    if kind == "pi":
        return of_pi_fraction(_draw_pi_fraction(rng, low, high))
    scale = rng.choice((10, 100))  # one decimal or two
    return rng.randint(math.ceil(math.radians(low) * scale), math.floor(math.radians(high) * scale)) / scale


def _draw_pi_fraction(rng: random.Random, low: float, high: float) -> Fraction:
    """A denominator with a multiple between ``low`` and ``high`` degrees, then one of its multiples."""
    by_denominator = [
        [Fraction(k, n) for k in range(math.ceil(low * n / 180), math.floor(high * n / 180) + 1) if math.gcd(k, n) == 1]
        for n in DENOMINATORS
    ]
    return rng.choice(rng.choice([fractions for fractions in by_denominator if fractions]))


def pi_fraction(value: float) -> Fraction | None:
    """The fraction of pi that ``value`` is (with a denominator of DENOMINATORS), else None."""
    for denominator in DENOMINATORS:
        fraction = Fraction(round(value * denominator / math.pi), denominator)
        if abs(of_pi_fraction(fraction) - value) < TOLERANCE:
            return fraction
    return None


def whole_degrees(value: float) -> int | None:
    """The whole number of degrees that ``value`` is, else None."""
    degrees = round(math.degrees(value))
    return degrees if abs(of_degrees(degrees) - value) < TOLERANCE else None


def in_hundredths(value: float) -> bool:
    """Whether ``value`` has at most two decimals."""
    return abs(value * 100 - round(value * 100)) < 1e-6


def kind_of(value: float) -> str:
    """The kind of an angle the generator drew; a pi-fraction in whole degrees (``pi/6``) counts as ``pi``."""
    if pi_fraction(value) is not None:
        return "pi"
    if whole_degrees(value) is not None:
        return "degrees"
    if in_hundredths(value):
        return "radians"
    raise ValueError(f"{value} is not an angle the generator draws")
