"""The NAVA builtins: each one's parameters, and what it builds from arguments of the right types.

``checker.py`` matches the arguments of a call to the ``Param``s and checks their types; then the
builder checks the values (dimensions, signs, fit) and returns the built value, or reports at
the offending expression and returns None. It reports to the ``Reporter`` it is given (the
checker), so this module does not import the checker.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass

from nava_instruct.nava.diagnostics import Reporter
from nava_instruct.nava.domain import COST_TYPES, MANIFOLDS, OBSTACLES, WEIGHT_NAMES, Point
from nava_instruct.nava.values import Cost, Field, Lst, Manifold, Nothing, Num, Obstacle, Path, Value, inside, numbers

# cost_function's number arguments: the weights, then those of each cost type.
COST_ARGUMENTS = tuple(dict.fromkeys((*WEIGHT_NAMES, *(name for names in COST_TYPES.values() for name in names))))


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # number string point location(point or angle) manifold obstacles cost field path
    required: bool = True
    positional: bool = False  # may be given without its name


@dataclass(frozen=True)
class Builtin:
    params: tuple[Param, ...]
    build: Callable[[Reporter, object, dict[str, Value]], Value | None]


BUILTINS: dict[str, Builtin] = {}


def builtin(name: str, *params: Param):
    def register(build):
        BUILTINS[name] = Builtin(params, build)
        return build

    return register


def suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def point(reporter: Reporter, value: Lst, dim: int, what: str) -> list[float] | None:
    coordinates = numbers(value)
    if len(coordinates) != dim:
        return reporter.report(value.node, f"{what} must have {dim} coordinates, got {len(coordinates)}")
    return coordinates


def positive(reporter: Reporter, value: Num, what: str) -> float | None:
    if value.value <= 0:
        return reporter.report(value.node, f"{what} must be > 0, got {value.value!r}")
    return value.value


def optional_radius(reporter: Reporter, args: dict, what: str) -> float | None:
    return positive(reporter, args["radius"], what) if "radius" in args else 1.0


# Manifolds.


@builtin(MANIFOLDS["R2"].builtin)
def _euclidean_plane(reporter, node, args):
    return Manifold(node, "R2")


@builtin(MANIFOLDS["R3"].builtin, Param("dim", "number", required=False))
def _euclidean_space(reporter, node, args):
    dim = args.get("dim")
    if dim is None or dim.value == 3:
        return Manifold(node, "R3")
    if dim.value == 2:
        reporter.report(dim.node, "euclidean_space(dim: 2) is the plane R2; write euclidean_plane()", "warning")
        return Manifold(node, "R2")
    return reporter.report(dim.node, f"euclidean_space dim must be 3, got {dim.value!r}")


@builtin(MANIFOLDS["S1"].builtin, Param("radius", "number", required=False))
def _circle(reporter, node, args):
    radius = optional_radius(reporter, args, "circle radius")
    return None if radius is None else Manifold(node, "S1", radius)


@builtin(MANIFOLDS["S2"].builtin, Param("center", "point", required=False), Param("radius", "number", required=False))
def _sphere(reporter, node, args):
    """The S2 manifold, or with a center the ball obstacle (whose builtin it also is)."""
    if "center" not in args:
        radius = optional_radius(reporter, args, "sphere radius")
        return None if radius is None else Manifold(node, "S2", radius)
    if "radius" not in args:
        return reporter.report(node, "sphere(center: ...) is a ball obstacle and is missing argument 'radius'")
    center = point(reporter, args["center"], 3, "sphere center")
    radius = positive(reporter, args["radius"], "sphere radius")
    return None if center is None or radius is None else Obstacle(node, "ball", {"center": center, "radius": radius})


@builtin(MANIFOLDS["SE2"].builtin)
def _se2(reporter, node, args):
    return Manifold(node, "SE2")


@builtin(MANIFOLDS["SE3"].builtin)
def _se3(reporter, node, args):
    return Manifold(node, "SE3")


# Obstacles.


@builtin(OBSTACLES["disc"].builtin, Param("center", "point"), Param("radius", "number"))
def _disc(reporter, node, args):
    center = point(reporter, args["center"], 2, "disc center")
    radius = positive(reporter, args["radius"], "disc radius")
    return None if center is None or radius is None else Obstacle(node, "disc", {"center": center, "radius": radius})


def _corners(reporter, node, args, kind: str, dim: int):
    low = point(reporter, args["min_corner"], dim, f"{kind} min_corner")
    high = point(reporter, args["max_corner"], dim, f"{kind} max_corner")
    if low is None or high is None:
        return None
    if any(bottom >= top for bottom, top in zip(low, high)):
        return reporter.report(node, f"{kind} min_corner must be below max_corner in every coordinate")
    return Obstacle(node, kind, {"min_corner": low, "max_corner": high})


@builtin(OBSTACLES["rectangle"].builtin, Param("min_corner", "point"), Param("max_corner", "point"))
def _rectangle(reporter, node, args):
    return _corners(reporter, node, args, "rectangle", 2)


@builtin(OBSTACLES["box"].builtin, Param("min_corner", "point"), Param("max_corner", "point"))
def _box(reporter, node, args):
    return _corners(reporter, node, args, "box", 3)


@builtin(OBSTACLES["arc"].builtin, Param("from", "number"), Param("to", "number"))
def _arc(reporter, node, args):
    start, end = args["from"].value, args["to"].value
    if (end - start) % math.tau == 0:
        return reporter.report(node, "arc from and to are the same angle")
    return Obstacle(node, "arc", {"from": start, "to": end})


@builtin(OBSTACLES["cap"].builtin, Param("center", "point"), Param("angle", "number"))
def _cap(reporter, node, args):
    center = point(reporter, args["center"], 3, "cap center")
    angle = args["angle"].value
    if not 0 < angle < math.pi:
        return reporter.report(args["angle"].node, f"cap angle must be between 0 and pi, got {angle!r}")
    return None if center is None else Obstacle(node, "cap", {"center": center, "angle": angle})


# Costs.


@builtin("geodesic_cost")
def _geodesic_cost(reporter, node, args):
    return Cost(node, {"kind": "geodesic"})


@builtin(
    "cost_function",
    Param("type", "string", required=False),
    *(Param(name, "number", required=False) for name in COST_ARGUMENTS),
)
def _cost_function(reporter, node, args):
    kind = args.pop("type", None)
    if kind is None:
        return _weighted_cost(reporter, node, args)
    if kind.value not in COST_TYPES:
        return reporter.report(kind.node, f'unknown cost type "{kind.value}"{suggest(kind.value, COST_TYPES)}')
    allowed = COST_TYPES[kind.value]
    extra = [name for name in args if name not in allowed]
    if extra:
        takes = ", ".join(("type", *allowed))
        return reporter.report(node, f"a {kind.value} cost_function takes no '{extra[0]}' (it takes: {takes})")
    values = {name: positive(reporter, value, name) for name, value in args.items()}
    if None in values.values():
        return None
    if kind.value == "energy_optimal":
        return Cost(node, {"kind": "energy_optimal", "energy_weight": values.get("energy_weight", 1.0)})
    if "max_velocity" not in values:
        return reporter.report(node, "a time_optimal cost_function is missing argument 'max_velocity'")
    return Cost(
        node,
        {
            "kind": "time_optimal",
            "max_velocity": values["max_velocity"],
            "max_acceleration": values.get("max_acceleration"),
        },
    )


def _weighted_cost(reporter, node, args):
    extra = [name for name in args if name not in WEIGHT_NAMES]
    if extra:
        return reporter.report(node, f"cost_function takes '{extra[0]}' only with type: \"time_optimal\"")
    if not args:
        return reporter.report(node, "cost_function needs a type or at least one weight")
    negative = [value for value in args.values() if value.value < 0]
    if negative:
        return reporter.report(negative[0].node, f"weights must be >= 0, got {negative[0].value!r}")
    if all(value.value == 0 for value in args.values()):
        return reporter.report(node, "cost_function weights are all zero")
    return Cost(
        node, {"kind": "weighted", **{name: args[name].value if name in args else 0.0 for name in WEIGHT_NAMES}}
    )


# The field, the path, the picture.


def _location(reporter, value: Value, manifold: Manifold, what: str) -> Point | None:
    """A start or goal as a point of ``manifold``: an angle on S1, coordinates elsewhere."""
    dim = MANIFOLDS[manifold.kind].point_dims
    if dim is None:
        if isinstance(value, Num):
            return value.value
        if len(value.items) == 1:
            reporter.report(
                value.node, f"{what} on {manifold.kind} is an angle; [θ] is read as θ, write the number", "warning"
            )
            return value.items[0].value
        return reporter.report(
            value.node, f"{what} on {manifold.kind} must be an angle (a number), got {len(value.items)} numbers"
        )
    if isinstance(value, Num):
        return reporter.report(
            value.node, f"{what} on {manifold.kind} must be a point of {dim} coordinates, got a number"
        )
    coordinates = point(reporter, value, dim, f"{what} on {manifold.kind}")
    if coordinates is None or manifold.kind == "S2" and not _on_sphere(reporter, coordinates, manifold, value, what):
        return None
    return coordinates


def _on_sphere(reporter, coordinates: list[float], manifold: Manifold, value: Value, what: str) -> bool:
    norm = math.hypot(*coordinates)
    if abs(norm - manifold.radius) > 1e-3 * manifold.radius:
        reporter.report(
            value.node, f"{what} is not on the sphere of radius {manifold.radius!r} (its norm is {norm:.6g})"
        )
        return False
    return True


def _show(location: Point) -> str:
    return repr(location) if isinstance(location, float) else "[" + ", ".join(map(repr, location)) + "]"


@builtin(
    "navigation_field",
    Param("manifold", "manifold"),
    Param("start", "location"),
    Param("goal", "location"),
    Param("obstacles", "obstacles", required=False),
    Param("cost", "cost", required=False),
)
def _navigation_field(reporter, node, args):
    manifold = args["manifold"]
    start = _location(reporter, args["start"], manifold, "start")
    goal = _location(reporter, args["goal"], manifold, "goal")
    obstacles = args["obstacles"].items if "obstacles" in args else []
    fitting = MANIFOLDS[manifold.kind].obstacles
    fits = True
    for obstacle in obstacles:
        if obstacle.kind not in fitting:
            allowed = ", ".join(OBSTACLES[kind].builtin for kind in fitting)
            reporter.report(
                obstacle.node,
                f"{OBSTACLES[obstacle.kind].builtin} obstacle does not fit "
                f"{manifold.kind} (obstacles on {manifold.kind}: {allowed})",
            )
            fits = False
        elif obstacle.kind == "cap":
            fits &= _on_sphere(reporter, obstacle.params["center"], manifold, obstacle, "cap center")
    if start is None or goal is None or not fits:
        return None
    clear = True
    for what, location, written in (("start", start, args["start"]), ("goal", goal, args["goal"])):
        for obstacle in obstacles:
            if inside(obstacle, location):
                kind, line = OBSTACLES[obstacle.kind].builtin, obstacle.node.line
                reporter.report(
                    written.node, f"{what} {_show(location)} lies inside the {kind} obstacle on line {line}"
                )
                clear = False
    if not clear:
        return None
    cost = args["cost"].spec if "cost" in args else {"kind": "geodesic"}
    return Field(node, manifold, start, goal, list(obstacles), cost)


@builtin("compute_optimal_path", Param("field", "field", positional=True))
def _compute_optimal_path(reporter, node, args):
    args["field"].computed = True
    return Path(node, args["field"])


@builtin("visualize", Param("path", "path", positional=True), Param("field", "field", required=False, positional=True))
def _visualize(reporter, node, args):
    path = args["path"]
    if "field" in args and args["field"] is not path.field:
        return reporter.report(node, "visualize: the path was computed from another field")
    path.field.visualized = True
    return Nothing(node)
