"""What NAVA expressions evaluate to, and whether a point lies inside an obstacle.

Every value remembers the expression it was written as (``node``), so that a problem with a
value is reported where the value is written, even when it reaches its use through a name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DIMENSIONS = {"R2": 2, "R3": 3, "SE2": 3, "SE3": 6, "S2": 3}  # coordinates of a point; S1 points are angles


@dataclass(eq=False)
class Value:
    node: object


@dataclass(eq=False)
class Num(Value):
    value: float


@dataclass(eq=False)
class Str(Value):
    value: str


@dataclass(eq=False)
class Lst(Value):
    items: list[Value]


@dataclass(eq=False)
class Manifold(Value):
    kind: str  # R2 R3 S1 S2 SE2 SE3
    radius: float | None = None  # S1 and S2 only


@dataclass(eq=False)
class Obstacle(Value):
    kind: str  # disc rectangle ball box arc cap
    params: dict  # as in the spec


@dataclass(eq=False)
class Cost(Value):
    spec: dict


@dataclass(eq=False)
class Field(Value):
    manifold: Manifold
    start: float | list[float]
    goal: float | list[float]
    obstacles: list[Obstacle]
    cost: dict
    computed: bool = False
    visualized: bool = False


@dataclass(eq=False)
class Path(Value):
    field: Field


@dataclass(eq=False)
class Nothing(Value):
    """What ``visualize(...)`` gives."""


TYPE_NAMES = {
    Num: "a number",
    Str: "a string",
    Lst: "a list",
    Manifold: "a manifold",
    Obstacle: "an obstacle",
    Cost: "a cost",
    Field: "a field",
    Path: "a path",
    Nothing: "nothing",
}


def numbers(value: Value) -> list[float] | None:
    """The numbers of a list of numbers, else None."""
    if isinstance(value, Lst) and all(isinstance(item, Num) for item in value.items):
        return [item.value for item in value.items]
    return None


def inside(obstacle: Obstacle, point: float | list[float]) -> bool:
    """Whether a start or goal lies in the closed obstacle; SE(n) poses use their position part."""
    p = obstacle.params
    if obstacle.kind == "arc":  # swept counter-clockwise from `from` to `to`, across 2*pi if need be
        return (point - p["from"]) % math.tau <= (p["to"] - p["from"]) % math.tau
    if obstacle.kind == "cap":  # by the angle between the directions of the two points
        cosine = sum(a * b for a, b in zip(point, p["center"])) / (math.hypot(*point) * math.hypot(*p["center"]))
        return math.acos(max(-1.0, min(1.0, cosine))) <= p["angle"]
    if obstacle.kind in ("disc", "ball"):
        return math.dist(point[: len(p["center"])], p["center"]) <= p["radius"]
    return all(low <= x <= high for x, low, high in zip(point, p["min_corner"], p["max_corner"]))
