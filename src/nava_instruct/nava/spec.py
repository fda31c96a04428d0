"""What a NAVA program means: its spec (plain JSON), and the first difference between two specs.

The spec shape is documented in docs/nava_language.md. Obstacles form a multiset: they are sorted
canonically in the spec, and ``spec_difference`` matches them up to the tolerance, so two
obstacle lists that differ only by order or by tiny amounts are equal.
"""

from __future__ import annotations

import json

from nava_instruct.nava.checker import analyze
from nava_instruct.nava.diagnostics import NavaError, errors
from nava_instruct.nava.domain import Problem
from nava_instruct.nava.values import Field


def _numbers(value) -> list[float]:
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [value]


def obstacle_key(obstacle: dict) -> tuple:
    return obstacle["kind"], _numbers([value for name, value in obstacle.items() if name != "kind"])


def _problem(built: Field) -> Problem:
    obstacles = [{"kind": obstacle.kind, **obstacle.params} for obstacle in built.obstacles]
    return Problem(
        manifold=built.manifold.kind,
        radius=built.manifold.radius,
        start=built.start,
        goal=built.goal,
        obstacles=tuple(sorted(obstacles, key=obstacle_key)),
        cost=built.cost,
        computed=built.computed,
        visualized=built.visualized,
    )


TOLERANCE = 1e-3  # two specs agree when their numbers differ by at most this (NAVA_LANGUAGE.md)


def extract_spec(source: str, filename: str = "<input>") -> dict:
    """``{"problems": [...]}``, one problem per navigation_field call; NavaError if the program has errors."""
    analysis = analyze(source, filename)
    if errors(analysis.diagnostics):
        raise NavaError(analysis.diagnostics)
    return {"problems": [_problem(built).spec() for built in analysis.fields]}


def _show(value) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool | str) else repr(value)


def _match_multiset(first: list, second: list, tol: float) -> int | None:
    """Index of an item of ``first`` left without a partner in ``second`` by a maximum matching, or None."""
    fits = [
        [index for index, other in enumerate(second) if _difference(item, other, tol, "") is None] for item in first
    ]
    partner: dict[int, int] = {}  # index in second -> index in first

    def augment(index: int, seen: set[int]) -> bool:
        for candidate in fits[index]:
            if candidate not in seen:
                seen.add(candidate)
                if candidate not in partner or augment(partner[candidate], seen):
                    partner[candidate] = index
                    return True
        return False

    for index in range(len(first)):
        if not augment(index, set()):
            return index
    return None


def spec_difference(first: dict, second: dict, tol: float = TOLERANCE) -> str | None:
    """None when two specs agree (numbers within ``tol``), else their first difference on one line,
    e.g. ``problems[0].goal[1]: 5.0 != 4.0``."""
    return _difference(first, second, tol, "")


def _difference(first, second, tol: float, path: str) -> str | None:
    where = path or "spec"
    if isinstance(first, bool) or isinstance(second, bool) or first is None or second is None or isinstance(first, str):
        return (
            None if type(first) is type(second) and first == second else f"{where}: {_show(first)} != {_show(second)}"
        )
    if isinstance(first, (int, float)) and isinstance(second, (int, float)):
        return None if abs(first - second) <= tol else f"{where}: {_show(first)} != {_show(second)}"
    if isinstance(first, dict) and isinstance(second, dict):
        for key in sorted(
            first.keys() | second.keys(), key=lambda name: (name != "kind", name)
        ):  # a different kind first
            if key not in second or key not in first:
                return f"{path}.{key}: only in the {'first' if key in first else 'second'} spec".lstrip(".")
            difference = _difference(first[key], second[key], tol, f"{path}.{key}".lstrip("."))
            if difference:
                return difference
        return None
    if isinstance(first, list) and isinstance(second, list):
        if len(first) != len(second):
            return f"{where}: {len(first)} items != {len(second)} items"
        if path.endswith("obstacles"):
            unmatched = _match_multiset(first, second, tol)
            if unmatched is None:
                return None
            # Name the field that differs against the obstacle at the same place in sorted order.
            return _difference(first[unmatched], second[unmatched], tol, f"{path}[{unmatched}]") or (
                f"{path}[{unmatched}]: no matching obstacle in the second spec"
            )
        for index, (first_item, second_item) in enumerate(zip(first, second)):
            difference = _difference(first_item, second_item, tol, f"{path}[{index}]")
            if difference:
                return difference
        return None
    return f"{where}: {_show(first)} != {_show(second)}"
