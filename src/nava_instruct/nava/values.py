"""What NAVA expressions evaluate to, and whether a point lies inside an obstacle.

Every value remembers the expression it was written as (``node``), so that a problem with a
value is reported where the value is written, even when it reaches its use through a name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nava_instruct.nava.domain import Point


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
    kind: str  # a name in domain.MANIFOLDS
    radius: float | None = None  # where the manifold has a radius


@dataclass(eq=False)
class Obstacle(Value):
    kind: str  # a name in domain.OBSTACLES
    params: dict  # as in the spec


@dataclass(eq=False)
class Cost(Value):
    spec: dict


@dataclass(eq=False)
class Field(Value):
    manifold: Manifold
    start: Point
    goal: Point
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


def inside(obstacle: Obstacle, point: Point) -> bool:
    """Whether a start or goal lies in the closed obstacle; SE(n) poses use their position part."""
    params = obstacle.params
    if obstacle.kind == "arc":  # swept counter-clockwise from `from` to `to`, across 2*pi if need be
        return (point - params["from"]) % math.tau <= (params["to"] - params["from"]) % math.tau
    if obstacle.kind == "cap":  # by the angle between the directions of the two points
        center = params["center"]
        dot = sum(x * y for x, y in zip(point, center))
        cosine = dot / (math.hypot(*point) * math.hypot(*center))
        return math.acos(max(-1.0, min(1.0, cosine))) <= params["angle"]
    if "radius" in params:  # a disc or a ball
        center = params["center"]
        return math.dist(point[: len(center)], center) <= params["radius"]
    return all(low <= x <= high for x, low, high in zip(point, params["min_corner"], params["max_corner"]))
