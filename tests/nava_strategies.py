"""Hypothesis strategies for valid NAVA programs, each with the problem it must denote.

Programs cover all six manifolds, every obstacle and cost kind, and vary in layout: values inlined
or bound with let (in shuffled order), argument order, blank lines, spaces, line breaks and
comments inside brackets, trailing commas, and how numbers are spelled (2, 2.0, 2.000, 200e-2).
Start and goal are kept clear of obstacles by construction (points in one region, obstacles in
another), so every program checks without diagnostics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import strategies as st

from nava_instruct.nava.domain import COST_KINDS, MANIFOLD_NAMES, MANIFOLDS, OBSTACLES, WEIGHT_NAMES

COMMENTS = ["// note", "//tight", '// a "quoted" word', "// see http://example.org", "// pi/2 ≈ 1.5707963"]


@dataclass
class Generated:
    source: str
    problem: dict  # the expected spec problem, obstacles sorted by kind then values


# Expression trees: ("call", name, [(arg name or None, node)]), ("list", [node]), ("num", text),
# ("str", text), ("ref", name).


@st.composite
def number(draw, low: float, high: float, places: int = 2) -> tuple[tuple, float]:
    """A number node spelled in one of several ways, and the float it reads as."""
    scale = 10**places
    scaled = draw(st.integers(math.ceil(low * scale), math.floor(high * scale)))
    value = scaled / scale
    spellings = [repr(value), f"{value:.{places + 1}f}", f"{scaled}e-{places}"]
    if scaled % scale == 0:
        spellings.append(str(scaled // scale))
    text = draw(st.sampled_from(spellings))
    return ("num", text), float(text)


@st.composite
def exact(draw, value: float) -> tuple[tuple, float]:
    text = draw(st.sampled_from([repr(value), f"{value:.7f}"]))
    return ("num", text), float(text)


@st.composite
def point(draw, ranges: list[tuple[float, float]]) -> tuple[tuple, list[float]]:
    parts = [draw(number(low, high)) for low, high in ranges]
    return ("list", [node for node, _ in parts]), [value for _, value in parts]


def call(name: str, *args) -> tuple:
    return ("call", name, list(args))


@st.composite
def sphere_point(draw, radius: float, polar: tuple[float, float]) -> tuple[tuple, list[float]]:
    theta = draw(st.floats(*polar))
    phi = draw(st.floats(0, math.tau))
    coordinates = [
        radius * math.sin(theta) * math.cos(phi),
        radius * math.sin(theta) * math.sin(phi),
        radius * math.cos(theta),
    ]
    parts = [draw(exact(round(coordinate, 6))) for coordinate in coordinates]
    return ("list", [node for node, _ in parts]), [value for _, value in parts]


@st.composite
def manifold(draw, kind: str) -> tuple[tuple, dict]:
    name = MANIFOLDS[kind].builtin
    if MANIFOLDS[kind].has_radius:
        if draw(st.booleans()):
            return call(name), {"kind": kind, "radius": 1.0}
        radius_node, radius = draw(number(0.5, 5.0))
        return call(name, ("radius", radius_node)), {"kind": kind, "radius": radius}
    if kind == "R3":
        dim = draw(st.sampled_from([[], [("dim", ("num", "3"))], [("dim", ("num", "3.0"))]]))
        return call(name, *dim), {"kind": "R3"}
    return call(name), {"kind": kind}


@st.composite
def location(draw, kind: str, radius: float | None) -> tuple[tuple, float | list[float]]:
    """A start or goal: positions have x in [-10, -5]; obstacles stay at x >= 0."""
    if kind == "S1":
        return draw(number(1.0, 1.9))
    if kind == "S2":
        return draw(sphere_point(radius, (0.0, 0.5)))
    space = MANIFOLDS[kind]
    position = [(-10, -5)] + [(-10, 10)] * (space.position_dims - 1)
    angles = space.point_dims - space.position_dims
    return draw(point(position + [(-3.14, 3.14)] * angles))


@st.composite
def obstacle(draw, kind: str, radius: float | None) -> tuple[tuple, dict]:
    if kind == "S1":
        start_node, start = draw(number(2.0, 6.0))
        span = draw(st.floats(0.1, 1.0))
        end_node, end = draw(exact(round((start + span) % math.tau, 4)))
        return call("arc", ("from", start_node), ("to", end_node)), {"kind": "arc", "from": start, "to": end}
    if kind == "S2":
        center_node, center = draw(sphere_point(radius, (math.pi - 1.0, math.pi)))
        angle_node, angle = draw(number(0.05, 0.5))
        return call("cap", ("center", center_node), ("angle", angle_node)), {
            "kind": "cap",
            "center": center,
            "angle": angle,
        }
    dim = MANIFOLDS[kind].position_dims
    round_kind, box_kind = MANIFOLDS[kind].obstacles
    if draw(st.booleans()):
        center_node, center = draw(point([(1, 9)] + [(-9, 9)] * (dim - 1)))
        size_node, size = draw(number(0.1, 1.0))
        return call(OBSTACLES[round_kind].builtin, ("center", center_node), ("radius", size_node)), {
            "kind": round_kind,
            "center": center,
            "radius": size,
        }
    low_node, low = draw(point([(0, 8)] + [(-9, 8)] * (dim - 1)))
    sizes = [draw(number(0.1, 2.0))[1] for _ in range(dim)]
    high = [corner + size for corner, size in zip(low, sizes)]
    high_parts = [draw(exact(round(corner, 2))) for corner in high]
    return (
        call(
            OBSTACLES[box_kind].builtin,
            ("min_corner", low_node),
            ("max_corner", ("list", [node for node, _ in high_parts])),
        ),
        {"kind": box_kind, "min_corner": low, "max_corner": [value for _, value in high_parts]},
    )


@st.composite
def cost(draw) -> tuple[tuple | None, dict]:
    kind = draw(st.sampled_from(["default", *COST_KINDS]))
    if kind == "default":
        return None, {"kind": "geodesic"}
    if kind == "geodesic":
        return call("geodesic_cost"), {"kind": "geodesic"}
    if kind == "weighted":
        names = draw(st.lists(st.sampled_from(WEIGHT_NAMES), min_size=1, max_size=len(WEIGHT_NAMES), unique=True))
        weights = {name: draw(number(0.0, 5.0)) for name in names}
        if all(value == 0 for _, value in weights.values()):
            weights[names[0]] = draw(number(0.1, 5.0))
        spec = {"kind": "weighted", **dict.fromkeys(WEIGHT_NAMES, 0.0)}
        spec.update({name: value for name, (_, value) in weights.items()})
        return call("cost_function", *[(name, node) for name, (node, _) in weights.items()]), spec
    args = [("type", ("str", f'"{kind}"'))]
    if kind == "time_optimal":
        velocity_node, velocity = draw(number(0.1, 10.0))
        args.append(("max_velocity", velocity_node))
        spec = {"kind": kind, "max_velocity": velocity, "max_acceleration": None}
        if draw(st.booleans()):
            acceleration_node, spec["max_acceleration"] = draw(number(0.1, 10.0))
            args.append(("max_acceleration", acceleration_node))
        return call("cost_function", *args), spec
    spec = {"kind": kind, "energy_weight": 1.0}
    if draw(st.booleans()):
        weight_node, spec["energy_weight"] = draw(number(0.1, 5.0))
        args.append(("energy_weight", weight_node))
    return call("cost_function", *args), spec


def flatten(value) -> list[float]:
    return [number for item in value for number in flatten(item)] if isinstance(value, list) else [value]


def sort_obstacles(obstacles: list[dict]) -> list[dict]:
    return sorted(
        obstacles,
        key=lambda obstacle: (obstacle["kind"], flatten([value for key, value in obstacle.items() if key != "kind"])),
    )


class Layout:
    """Random whitespace and comments, drawn as the program is written out."""

    def __init__(self, draw):
        self.draw = draw

    def inner(self) -> str:  # between tokens inside brackets
        return self.draw(
            st.sampled_from(
                ["", " ", " ", "  ", "\n  ", "\n\n    ", " " + COMMENTS[0] + "\n  ", "\n  " + COMMENTS[2] + "\n  "]
            )
        )

    def blank(self) -> str:  # between tokens outside brackets
        return self.draw(st.sampled_from([" ", " ", "", "  ", "\t"]))

    def expression(self, node) -> str:
        kind = node[0]
        if kind in ("num", "str", "ref"):
            return node[1]
        if kind == "list":
            items = [self.expression(item) for item in node[1]]
            return "[" + self.inner() + self.separated(items) + "]"
        args = list(node[2])
        if self.draw(st.booleans()):
            args = self.draw(st.permutations(args))
        texts = [
            self.expression(value) if name is None else f"{name}{self.blank()}:{self.blank()}{self.expression(value)}"
            for name, value in args
        ]
        return node[1] + "(" + self.inner() + self.separated(texts) + ")"

    def separated(self, items: list[str]) -> str:
        if not items:
            return ""
        text = "".join(
            item + ("," + self.inner() if index < len(items) - 1 else "") for index, item in enumerate(items)
        )
        if self.draw(st.booleans()):
            text += ","
        return text + self.inner()

    def statement_gap(self) -> str:
        return self.draw(
            st.sampled_from(
                [
                    "\n",
                    "\n",
                    "\n\n",
                    "\n\n\n",
                    "\n" + COMMENTS[1] + "\n",
                    "\n\n" + COMMENTS[3] + "\n" + COMMENTS[4] + "\n",
                    "  " + COMMENTS[2] + "\n",
                ]
            )
        )


@st.composite
def programs(draw, min_obstacles: int = 0) -> Generated:
    kind = draw(st.sampled_from(MANIFOLD_NAMES))
    manifold_node, manifold_spec = draw(manifold(kind))
    radius = manifold_spec.get("radius")
    start_node, start = draw(location(kind, radius))
    goal_node, goal = draw(location(kind, radius))
    obstacles = [draw(obstacle(kind, radius)) for _ in range(draw(st.integers(min_obstacles, 3)))]
    cost_node, cost_spec = draw(cost())

    names = iter(
        f"{base}{index}"
        for index, base in enumerate(
            draw(
                st.lists(
                    st.sampled_from(["M", "start", "goal", "o", "obstacle", "c", "cost", "x", "let_", "circle"]),
                    min_size=12,
                    max_size=12,
                )
            )
        )
    )
    lets: list[tuple[str, tuple]] = []

    def maybe_bind(node, bindings):
        if draw(st.booleans()):
            return node
        name = next(names)
        bindings.append((name, node))
        return ("ref", name)

    obstacle_nodes = [maybe_bind(node, lets) for node, _ in obstacles]
    field_args = [
        ("manifold", maybe_bind(manifold_node, lets)),
        ("start", maybe_bind(start_node, lets)),
        ("goal", maybe_bind(goal_node, lets)),
    ]
    if cost_node is not None:
        field_args.append(("cost", maybe_bind(cost_node, lets)))
    lets = draw(st.permutations(lets))
    if obstacles or draw(st.booleans()):  # a bound obstacle list comes after the obstacles it names
        field_args.insert(3, ("obstacles", maybe_bind(("list", obstacle_nodes), lets)))

    layout = Layout(draw)
    statements = [f"let {name}{layout.blank()}={layout.blank()}{layout.expression(node)}" for name, node in lets]
    statements.append(f"let field = {layout.expression(call('navigation_field', *field_args))}")
    output = draw(st.sampled_from(["bare", "path", "visualize_path", "visualize_both"]))
    if output == "bare":
        statements.append(draw(st.sampled_from(["compute_optimal_path(field)", "compute_optimal_path(field: field)"])))
    else:
        statements.append("let path = compute_optimal_path(field)")
    if output == "visualize_path":
        statements.append("visualize(path)")
    elif output == "visualize_both":
        statements.append(draw(st.sampled_from(["visualize(path, field)", "visualize(path: path, field: field)"])))
    source = draw(st.sampled_from(["", "\n", COMMENTS[0] + "\n"]))
    source += "".join(statement + layout.statement_gap() for statement in statements)
    problem = {
        "manifold": manifold_spec,
        "start": start,
        "goal": goal,
        "obstacles": sort_obstacles([spec for _, spec in obstacles]),
        "cost": cost_spec,
        "computed": True,
        "visualized": output.startswith("visualize"),
    }
    return Generated(source, problem)
