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
        return [x for item in value for x in _numbers(item)]
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


def extract_spec(source: str, filename: str = "<input>") -> dict:
    """``{"problems": [...]}``, one problem per navigation_field call; NavaError if the program has errors."""
    analysis = analyze(source, filename)
    if errors(analysis.diagnostics):
        raise NavaError(analysis.diagnostics)
    return {"problems": [_problem(built).spec() for built in analysis.fields]}


def _show(value) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool | str) else repr(value)


def _match_multiset(a: list, b: list, tol: float) -> int | None:
    """Index of an item of ``a`` left without a partner in ``b`` by a maximum matching, or None."""
    fits = [[j for j, other in enumerate(b) if _difference(item, other, tol, "") is None] for item in a]
    partner: dict[int, int] = {}  # index in b -> index in a

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in partner or augment(partner[j], seen):
                    partner[j] = i
                    return True
        return False

    for i in range(len(a)):
        if not augment(i, set()):
            return i
    return None


def spec_difference(a: dict, b: dict, tol: float = 1e-3) -> str | None:
    """None when two specs agree (numbers within ``tol``), else their first difference on one line,
    e.g. ``problems[0].goal[1]: 5.0 != 4.0``."""
    return _difference(a, b, tol, "")


def _difference(a, b, tol: float, path: str) -> str | None:
    where = path or "spec"
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        return None if type(a) is type(b) and a == b else f"{where}: {_show(a)} != {_show(b)}"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return None if abs(a - b) <= tol else f"{where}: {_show(a)} != {_show(b)}"
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys(), key=lambda k: (k != "kind", k)):  # a different kind first
            if key not in b or key not in a:
                return f"{path}.{key}: only in the {'first' if key in a else 'second'} spec".lstrip(".")
            difference = _difference(a[key], b[key], tol, f"{path}.{key}".lstrip("."))
            if difference:
                return difference
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        if path.endswith("obstacles"):
            unmatched = _match_multiset(a, b, tol)
            if unmatched is None:
                return None
            # Name the field that differs against the obstacle at the same place in sorted order.
            return _difference(a[unmatched], b[unmatched], tol, f"{path}[{unmatched}]") or (
                f"{path}[{unmatched}]: no matching obstacle in the second spec"
            )
        for index, (x, y) in enumerate(zip(a, b)):
            difference = _difference(x, y, tol, f"{path}[{index}]")
            if difference:
                return difference
        return None
    return f"{where}: {_show(a)} != {_show(b)}"
