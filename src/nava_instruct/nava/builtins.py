"""The NAVA builtins: each one's parameters, and what it builds from arguments of the right types.

``checker.py`` matches the arguments of a call to the ``Param``s and checks their types; then the
builder checks the values (dimensions, signs, fit) and returns the built value, or reports at
the offending expression and returns None.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nava_instruct.nava.values import (
    DIMENSIONS,
    Cost,
    Field,
    Lst,
    Manifold,
    Nothing,
    Num,
    Obstacle,
    Path,
    Value,
    inside,
    numbers,
)

if TYPE_CHECKING:
    from nava_instruct.nava.checker import Checker

FITS = {
    "disc": ("R2", "SE2"),
    "rectangle": ("R2", "SE2"),
    "ball": ("R3", "SE3"),
    "box": ("R3", "SE3"),
    "arc": ("S1",),
    "cap": ("S2",),
}
WRITTEN_AS = {"ball": "sphere"}  # obstacle kinds whose builtin has another name
WEIGHTS = ("length_weight", "curvature_weight", "jerk_weight", "energy_weight")
COST_TYPES = {"time_optimal": ("max_velocity", "max_acceleration"), "energy_optimal": ("energy_weight",)}


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # number string point location(point or angle) manifold obstacles cost field path
    required: bool = True
    positional: bool = False  # may be given without its name


@dataclass(frozen=True)
class Builtin:
    params: tuple[Param, ...]
    build: Callable[[Checker, object, dict[str, Value]], Value | None]


BUILTINS: dict[str, Builtin] = {}


def builtin(name: str, *params: Param):
    def register(build):
        BUILTINS[name] = Builtin(params, build)
        return build

    return register


def suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def point(c: Checker, value: Lst, dim: int, what: str) -> list[float] | None:
    coordinates = numbers(value)
    if len(coordinates) != dim:
        return c.report(value.node, f"{what} must have {dim} coordinates, got {len(coordinates)}")
    return coordinates


def positive(c: Checker, value: Num, what: str) -> float | None:
    if value.value <= 0:
        return c.report(value.node, f"{what} must be > 0, got {value.value!r}")
    return value.value


def optional_radius(c: Checker, args: dict, what: str) -> float | None:
    return positive(c, args["radius"], what) if "radius" in args else 1.0


# Manifolds.


@builtin("euclidean_plane")
def _euclidean_plane(c, node, args):
    return Manifold(node, "R2")


@builtin("euclidean_space", Param("dim", "number", required=False))
def _euclidean_space(c, node, args):
    dim = args.get("dim")
    if dim is None or dim.value == 3:
        return Manifold(node, "R3")
    if dim.value == 2:
        c.report(dim.node, "euclidean_space(dim: 2) is the plane R2; write euclidean_plane()", "warning")
        return Manifold(node, "R2")
    return c.report(dim.node, f"euclidean_space dim must be 3, got {dim.value!r}")


@builtin("circle", Param("radius", "number", required=False))
def _circle(c, node, args):
    radius = optional_radius(c, args, "circle radius")
    return None if radius is None else Manifold(node, "S1", radius)


@builtin("sphere", Param("center", "point", required=False), Param("radius", "number", required=False))
def _sphere(c, node, args):
    """The S2 manifold, or with a center the ball obstacle."""
    if "center" not in args:
        radius = optional_radius(c, args, "sphere radius")
        return None if radius is None else Manifold(node, "S2", radius)
    if "radius" not in args:
        return c.report(node, "sphere(center: ...) is a ball obstacle and is missing argument 'radius'")
    center = point(c, args["center"], 3, "sphere center")
    radius = positive(c, args["radius"], "sphere radius")
    return None if center is None or radius is None else Obstacle(node, "ball", {"center": center, "radius": radius})


@builtin("se2")
def _se2(c, node, args):
    return Manifold(node, "SE2")


@builtin("se3")
def _se3(c, node, args):
    return Manifold(node, "SE3")


# Obstacles.


@builtin("disc", Param("center", "point"), Param("radius", "number"))
def _disc(c, node, args):
    center = point(c, args["center"], 2, "disc center")
    radius = positive(c, args["radius"], "disc radius")
    return None if center is None or radius is None else Obstacle(node, "disc", {"center": center, "radius": radius})


def _corners(c, node, args, kind: str, dim: int):
    low = point(c, args["min_corner"], dim, f"{kind} min_corner")
    high = point(c, args["max_corner"], dim, f"{kind} max_corner")
    if low is None or high is None:
        return None
    if any(a >= b for a, b in zip(low, high)):
        return c.report(node, f"{kind} min_corner must be below max_corner in every coordinate")
    return Obstacle(node, kind, {"min_corner": low, "max_corner": high})


@builtin("rectangle", Param("min_corner", "point"), Param("max_corner", "point"))
def _rectangle(c, node, args):
    return _corners(c, node, args, "rectangle", 2)


@builtin("box", Param("min_corner", "point"), Param("max_corner", "point"))
def _box(c, node, args):
    return _corners(c, node, args, "box", 3)


@builtin("arc", Param("from", "number"), Param("to", "number"))
def _arc(c, node, args):
    start, end = args["from"].value, args["to"].value
    if (end - start) % math.tau == 0:
        return c.report(node, "arc from and to are the same angle")
    return Obstacle(node, "arc", {"from": start, "to": end})


@builtin("cap", Param("center", "point"), Param("angle", "number"))
def _cap(c, node, args):
    center = point(c, args["center"], 3, "cap center")
    angle = args["angle"].value
    if not 0 < angle < math.pi:
        return c.report(args["angle"].node, f"cap angle must be between 0 and pi, got {angle!r}")
    return None if center is None else Obstacle(node, "cap", {"center": center, "angle": angle})


# Costs.


@builtin("geodesic_cost")
def _geodesic_cost(c, node, args):
    return Cost(node, {"kind": "geodesic"})


@builtin(
    "cost_function",
    Param("type", "string", required=False),
    *(Param(name, "number", required=False) for name in (*WEIGHTS, "max_velocity", "max_acceleration")),
)
def _cost_function(c, node, args):
    kind = args.pop("type", None)
    if kind is None:
        return _weighted_cost(c, node, args)
    if kind.value not in COST_TYPES:
        return c.report(kind.node, f'unknown cost type "{kind.value}"{suggest(kind.value, COST_TYPES)}')
    allowed = COST_TYPES[kind.value]
    extra = [name for name in args if name not in allowed]
    if extra:
        takes = ", ".join(("type", *allowed))
        return c.report(node, f"a {kind.value} cost_function takes no '{extra[0]}' (it takes: {takes})")
    values = {name: positive(c, value, name) for name, value in args.items()}
    if None in values.values():
        return None
    if kind.value == "energy_optimal":
        return Cost(node, {"kind": "energy_optimal", "energy_weight": values.get("energy_weight", 1.0)})
    if "max_velocity" not in values:
        return c.report(node, "a time_optimal cost_function is missing argument 'max_velocity'")
    return Cost(
        node,
        {
            "kind": "time_optimal",
            "max_velocity": values["max_velocity"],
            "max_acceleration": values.get("max_acceleration"),
        },
    )


def _weighted_cost(c, node, args):
    extra = [name for name in args if name not in WEIGHTS]
    if extra:
        return c.report(node, f"cost_function takes '{extra[0]}' only with type: \"time_optimal\"")
    if not args:
        return c.report(node, "cost_function needs a type or at least one weight")
    negative = [value for value in args.values() if value.value < 0]
    if negative:
        return c.report(negative[0].node, f"weights must be >= 0, got {negative[0].value!r}")
    if all(value.value == 0 for value in args.values()):
        return c.report(node, "cost_function weights are all zero")
    return Cost(node, {"kind": "weighted", **{name: args[name].value if name in args else 0.0 for name in WEIGHTS}})


# The field, the path, the picture.


def _location(c, value: Value, manifold: Manifold, what: str) -> float | list[float] | None:
    """A start or goal as a point of ``manifold``: an angle on S1, coordinates elsewhere."""
    if manifold.kind == "S1":
        if isinstance(value, Num):
            return value.value
        if len(value.items) == 1:
            c.report(value.node, f"{what} on S1 is an angle; [θ] is read as θ, write the number", "warning")
            return value.items[0].value
        return c.report(value.node, f"{what} on S1 must be an angle (a number), got {len(value.items)} numbers")
    dim = DIMENSIONS[manifold.kind]
    if isinstance(value, Num):
        return c.report(value.node, f"{what} on {manifold.kind} must be a point of {dim} coordinates, got a number")
    coordinates = point(c, value, dim, f"{what} on {manifold.kind}")
    if coordinates is None or manifold.kind == "S2" and not _on_sphere(c, coordinates, manifold, value, what):
        return None
    return coordinates


def _on_sphere(c, coordinates: list[float], manifold: Manifold, value: Value, what: str) -> bool:
    norm = math.hypot(*coordinates)
    if abs(norm - manifold.radius) > 1e-3 * manifold.radius:
        c.report(value.node, f"{what} is not on the sphere of radius {manifold.radius!r} (its norm is {norm:.6g})")
        return False
    return True


def _show(location: float | list[float]) -> str:
    return repr(location) if isinstance(location, float) else "[" + ", ".join(map(repr, location)) + "]"


@builtin(
    "navigation_field",
    Param("manifold", "manifold"),
    Param("start", "location"),
    Param("goal", "location"),
    Param("obstacles", "obstacles", required=False),
    Param("cost", "cost", required=False),
)
def _navigation_field(c, node, args):
    manifold = args["manifold"]
    start = _location(c, args["start"], manifold, "start")
    goal = _location(c, args["goal"], manifold, "goal")
    obstacles = args["obstacles"].items if "obstacles" in args else []
    fits = True
    for obstacle in obstacles:
        if manifold.kind not in FITS[obstacle.kind]:
            allowed = ", ".join(WRITTEN_AS.get(kind, kind) for kind, kinds in FITS.items() if manifold.kind in kinds)
            c.report(
                obstacle.node,
                f"{WRITTEN_AS.get(obstacle.kind, obstacle.kind)} obstacle does not fit "
                f"{manifold.kind} (obstacles on {manifold.kind}: {allowed})",
            )
            fits = False
        elif obstacle.kind == "cap":
            fits &= _on_sphere(c, obstacle.params["center"], manifold, obstacle, "cap center")
    if start is None or goal is None or not fits:
        return None
    errors_before = c.error_count
    for what, location, written in (("start", start, args["start"]), ("goal", goal, args["goal"])):
        for obstacle in obstacles:
            if inside(obstacle, location):
                kind = WRITTEN_AS.get(obstacle.kind, obstacle.kind)
                line = obstacle.node.line
                c.report(written.node, f"{what} {_show(location)} lies inside the {kind} obstacle on line {line}")
    if c.error_count > errors_before:
        return None
    cost = args["cost"].spec if "cost" in args else {"kind": "geodesic"}
    built = Field(node, manifold, start, goal, list(obstacles), cost)
    c.fields.append(built)
    return built


@builtin("compute_optimal_path", Param("field", "field", positional=True))
def _compute_optimal_path(c, node, args):
    args["field"].computed = True
    return Path(node, args["field"])


@builtin("visualize", Param("path", "path", positional=True), Param("field", "field", required=False, positional=True))
def _visualize(c, node, args):
    path = args["path"]
    if "field" in args and args["field"] is not path.field:
        return c.report(node, "visualize: the path was computed from another field")
    path.field.visualized = True
    return Nothing(node)
