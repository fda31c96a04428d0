"""A problem spec as NAVA source, in one of many surface styles (before the canonical formatter).

A :class:`Style` fixes the binding names, what is let-bound and what is inlined, whether default
arguments are spelt out, and how much commenting there is (none, sparse notes of the angles as
the request said them, ``// 37 degrees``, or beginner comments above every step). Rendering the
same spec twice with one style gives the same text, and an edited spec keeps the style, so an edit
changes only what it must. A ``Defect`` hook can alter one call or value while rendering: that
is how :mod:`fixes` breaks programs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES, WEIGHT_NAMES, Problem
from nava_instruct.synth.phrasing import exact_words

_NAMES = {
    "manifold": ("M", "M", "manifold", "space", "world", "C"),
    "endpoints": (
        ("start", "goal"),
        ("start", "goal"),
        ("origin", "target"),
        ("source", "destination"),
        ("p0", "p1"),
        ("home", "dest"),
        ("a", "b"),
    ),
    "pose_endpoints": (("start_pose", "goal_pose"), ("q_start", "q_goal"), ("pose_start", "pose_goal")),
    "angle_endpoints": (("start_angle", "goal_angle"), ("theta0", "theta1")),
    "obstacle": ("obstacle{n}", "obstacle{n}", "obs{n}", "o{n}", "obstacle_{n}", "{kind}{n}", "blocker{n}"),
    "obstacles": ("obstacles", "obs", "blocked"),
    "cost": ("cost", "cost", "objective", "path_cost", "{kind}_cost"),
    "field": ("field", "field", "nav_field", "F", "nav"),
    "path": ("path", "path", "route", "optimal_path", "trajectory"),
}
Args = list[tuple[str | None, str]]  # a call's arguments: (name or None for positional, code)
_COST_WORD = {"geodesic": "length", "weighted": "smooth", "time_optimal": "time", "energy_optimal": "energy"}
# Beginner comments: key -> (everyday wordings, technical wordings); one wording is picked per style. One
# short line per step, and none mentions obstacles unless the problem has some.
_COMMENTS = {
    "manifold:R2": (("A flat 2D plane", "Our world: a flat plane"), ("The plane R^2",)),
    "manifold:R3": (("Ordinary 3D space", "Our world: 3D space"), ("Euclidean space R^3",)),
    "manifold:S1": (("A circle: positions are angles",), ("The circle S^1",)),
    "manifold:S2": (("The surface of a ball", "Our world: a sphere"), ("The 2-sphere S^2",)),
    "manifold:SE2": (("Position plus facing direction",), ("Planar poses: SE(2)",)),
    "manifold:SE3": (("Moving and turning in 3D",), ("Rigid-body poses: SE(3)",)),
    "endpoints:R2": (("Where we start and finish",), ("Start and goal",)),
    "endpoints:R3": (("Where we start and finish",), ("Start and goal",)),
    "endpoints:S1": (("Start and goal angles, in radians",), ("Start and goal angles (radians)",)),
    "endpoints:S2": (("Start and goal, on the sphere",), ("Start and goal on the sphere",)),
    "endpoints:SE2": (("Start and goal as [x, y, heading]",), ("Poses [x, y, theta]",)),
    "endpoints:SE3": (("Where we start and finish",), ("Start and goal poses",)),
    "obstacles": (("Things to go around", "Places the path must avoid"), ("Obstacles (forbidden regions)",)),
    "no_obstacles": (("Nothing is in the way", "No obstacles here"), ("No obstacles",)),
    "cost:geodesic": (("Take the shortest route",), ("Geodesic cost: path length",)),
    "cost:weighted": (("Weights say what matters most",), ("Weighted sum of cost terms",)),
    "cost:time_optimal": (("As fast as the limits allow",), ("Minimum-time cost with bounds",)),
    "cost:energy_optimal": (("Use as little energy as possible",), ("Minimum-energy cost",)),
    "field": (("Put it all together", "Build the navigation field"), ("The navigation field",)),
    "path": (("Find the best path",), ("Solve for the optimal path",)),
    "show": (("Draw the path", "Show the result"), ("Plot the result",)),
}


@dataclass(frozen=True)
class Style:
    manifold_name: str | None  # None: the manifold is inlined into navigation_field
    start_name: str | None  # None: inlined
    goal_name: str | None
    obstacle_pattern: str | None  # None: obstacles inlined into the list
    obstacle_ids: tuple[int, ...]  # the number in each obstacle's name, in program order
    obstacles_name: str | None  # the obstacle list let-bound under this name
    cost_name: str | None  # None: inlined
    omit_defaults: bool  # leave out `obstacles: []` and a geodesic cost
    implicit_energy_weight: bool  # leave out `energy_weight: 1.0`
    field_name: str
    path_name: str
    path_keyword: bool  # compute_optimal_path(field: F)
    show_field: bool  # visualize(path, field) rather than visualize(path)
    bare_integers: bool  # write `5` for 5.0 (the formatter restores `5.0`)
    comments: str  # "none", "sparse" or "beginner"
    simple_words: bool  # beginner comments in everyday words
    seed: int  # picks comment wordings

    @classmethod
    def sample(cls, rng: random.Random, manifold: str, comments: str = "none", level: str = "undergrad") -> Style:
        space = MANIFOLDS[manifold]
        pairs = _NAMES["endpoints"] + (
            _NAMES["pose_endpoints"] if space.is_pose else _NAMES["angle_endpoints"] if space.point_dims is None else ()
        )
        start, goal = rng.choice(pairs)
        inline = 0.0 if comments == "beginner" else 1.0  # beginner code binds each step, to comment it
        inline_points = rng.random() < 0.15 * inline
        return cls(
            manifold_name=None if rng.random() < 0.12 * inline else rng.choice(_NAMES["manifold"]),
            start_name=None if inline_points else start,
            goal_name=None if inline_points else goal,
            obstacle_pattern=None if rng.random() < 0.25 * inline else rng.choice(_NAMES["obstacle"]),
            obstacle_ids=(1, 2, 3),
            obstacles_name=rng.choice(_NAMES["obstacles"]) if rng.random() < 0.2 else None,
            cost_name=None if rng.random() < 0.4 * inline else rng.choice(_NAMES["cost"]),
            omit_defaults=rng.random() < 0.25,
            implicit_energy_weight=rng.random() < 0.5,
            field_name=rng.choice(_NAMES["field"]),
            path_name=rng.choice(_NAMES["path"]),
            path_keyword=rng.random() < 0.15,
            show_field=rng.random() < 0.8,
            bare_integers=rng.random() < 0.3,
            comments=comments,
            simple_words=level in ("gcse", "a_level"),
            seed=rng.randrange(1 << 30),
        )


class Defect:
    """A hook that may alter a call's name and arguments, or a point, while rendering."""

    def call(self, role: str, name: str, args: Args) -> tuple[str, Args]:
        return name, args

    def value(self, role: str, value):
        return value


def code_number(value: float, bare_integers: bool = False) -> str:
    if bare_integers and value == int(value):
        return str(int(value))
    return repr(float(value))


@dataclass
class _Writer:
    """Collects statements; comments wait for the next statement they describe."""

    lines: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def comment(self, text: str | None) -> None:
        if text:
            self.pending.append(f"// {text}")

    def statement(self, text: str, note: str | None = None) -> None:
        self.lines += self.pending
        self.pending = []
        self.lines.append(f"{text}  // {note}" if note else text)

    def gap(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")


class _Renderer:
    def __init__(self, problem: Problem, style: Style, defect: Defect | None, angle_words: dict[float, str]):
        self.problem, self.style, self.defect = problem, style, defect or Defect()
        self.angle_words = angle_words
        self.space = MANIFOLDS[problem.manifold]
        self.out = _Writer()

    # -- small helpers ------------------------------------------------------------------------
    def pick(self, key: str, options: tuple[str, ...]) -> str:
        return random.Random(f"{self.style.seed}:{key}").choice(options)

    def beginner(self, key: str) -> None:
        """A beginner comment (everyday or technical wording) for the next statement."""
        if self.style.comments == "beginner" and key in _COMMENTS:
            simple, technical = _COMMENTS[key]
            self.out.comment(self.pick(key, simple if self.style.simple_words else technical))

    def num(self, value: float) -> str:
        return code_number(value, self.style.bare_integers)

    def value_text(self, value) -> str:
        if isinstance(value, str):  # already code (a defect may supply it)
            return value
        if isinstance(value, (int, float)):
            return self.num(value)
        return "[" + ", ".join(self.num(coordinate) for coordinate in value) + "]"

    def call(self, role: str, name: str, args: Args) -> str:
        name, args = self.defect.call(role, name, args)
        return f"{name}(" + ", ".join(f"{key}: {code}" if key else code for key, code in args) + ")"

    def bind_or_inline(self, name: str | None, expr: str, note: str | None = None) -> str:
        if name is None:
            return expr
        self.out.statement(f"let {name} = {expr}", note)
        return name

    def said(self, angle: float) -> str:
        """An angle in the request's words (``37°``, ``3pi/5``, ``0.35 rad``), else in its exact words."""
        return self.angle_words.get(angle) or exact_words(angle)

    def angle_note(self, role: str, value) -> str | None:
        """A ``// 37 degrees`` note for a let-bound value that holds angles."""
        if self.style.comments == "none":
            return None
        if self.problem.manifold == "S1":
            return self.said(value)
        if self.problem.manifold == "SE2":
            return f"theta = {self.said(value[2])}"
        if self.problem.manifold == "SE3":
            return "roll {}, pitch {}, yaw {}".format(*(self.said(angle) for angle in value[3:]))
        return None

    # -- the program, top to bottom -----------------------------------------------------------
    def render(self) -> str:
        manifold = self.manifold()
        start, goal = self.endpoints()
        obstacles = self.obstacles()
        cost = self.cost()
        self.field_and_path(manifold, start, goal, obstacles, cost)
        return "\n".join(self.out.lines).strip() + "\n"

    def manifold(self) -> str:
        name = self.problem.manifold
        radius = [("radius", self.num(self.problem.radius))] if self.space.has_radius else []
        args = [("dim", "3")] if name == "R3" else radius
        self.beginner(f"manifold:{name}")
        wants_note = self.style.comments == "sparse" and self.pick("mnote", ("y", "n")) == "y"
        note = self.space.notation if wants_note else None
        return self.bind_or_inline(self.style.manifold_name, self.call("manifold", self.space.builtin, args), note)

    def endpoints(self) -> tuple[str, str]:
        self.beginner(f"endpoints:{self.problem.manifold}")
        names = []
        for role, name, point in (
            ("start", self.style.start_name, self.problem.start),
            ("goal", self.style.goal_name, self.problem.goal),
        ):
            value = self.defect.value(role, point)
            names.append(self.bind_or_inline(name, self.value_text(value), self.angle_note(role, point)))
        self.out.gap()
        return names[0], names[1]

    def obstacle_expr(self, index: int, obstacle: dict) -> tuple[str, str | None]:
        kind = OBSTACLES[obstacle["kind"]]
        args = [(param, self.value_text(obstacle[param])) for param in kind.params]
        note = None
        if self.style.comments != "none":  # the angles of an arc or a cap, as the request said them
            if obstacle["kind"] == "arc":
                note = f"from {self.said(obstacle['from'])} to {self.said(obstacle['to'])}"
            elif obstacle["kind"] == "cap":
                note = f"angle {self.said(obstacle['angle'])}"
        return self.call(f"obstacle{index}", kind.builtin, args), note

    def obstacles(self) -> str | None:
        items = self.problem.obstacles
        if not items:
            if self.style.omit_defaults:
                return None
            return "[]"
        self.beginner("obstacles")
        names = []
        for index, obstacle in enumerate(items):
            expr, note = self.obstacle_expr(index, obstacle)
            if self.style.obstacle_pattern is None:
                names.append(expr)
            else:
                name = self.style.obstacle_pattern.format(n=self.style.obstacle_ids[index], kind=obstacle["kind"])
                names.append(self.bind_or_inline(name, expr, note))
        listing = "[" + ", ".join(names) + "]"
        self.out.gap()
        return self.bind_or_inline(self.style.obstacles_name, listing)

    def cost(self) -> str | None:
        cost = self.problem.cost
        if cost["kind"] == "geodesic" and self.style.omit_defaults:
            return None
        self.beginner(f"cost:{cost['kind']}")
        if cost["kind"] == "geodesic":
            expr = self.call("cost", "geodesic_cost", [])
        elif cost["kind"] == "weighted":
            weights = [(weight, self.num(cost[weight])) for weight in WEIGHT_NAMES if cost[weight]]
            expr = self.call("cost", "cost_function", weights)
        elif cost["kind"] == "time_optimal":
            args = [("type", '"time_optimal"'), ("max_velocity", self.num(cost["max_velocity"]))]
            if cost["max_acceleration"] is not None:
                args.append(("max_acceleration", self.num(cost["max_acceleration"])))
            expr = self.call("cost", "cost_function", args)
        else:
            args = [("type", '"energy_optimal"')]
            if not (self.style.implicit_energy_weight and cost["energy_weight"] == 1.0):
                args.append(("energy_weight", self.num(cost["energy_weight"])))
            expr = self.call("cost", "cost_function", args)
        name = self.style.cost_name.format(kind=_COST_WORD[cost["kind"]]) if self.style.cost_name else None
        result = self.bind_or_inline(name, expr)
        if name:
            self.out.gap()
        return result

    def field_and_path(self, manifold: str, start: str, goal: str, obstacles: str | None, cost: str | None) -> None:
        args = [("manifold", manifold), ("start", start), ("goal", goal)]
        args += [("obstacles", obstacles)] if obstacles is not None else []
        args += [("cost", cost)] if cost is not None else []
        if not self.problem.obstacles:
            self.beginner("no_obstacles")
        self.beginner("field")
        self.out.statement(f"let {self.style.field_name} = " + self.call("field", "navigation_field", args))
        if not self.problem.computed:
            return
        self.out.gap()
        self.beginner("path")
        argument = f"field: {self.style.field_name}" if self.style.path_keyword else self.style.field_name
        self.out.statement(
            f"let {self.style.path_name} = {self.call('path', 'compute_optimal_path', [(None, argument)])}"
        )
        if self.problem.visualized:
            self.beginner("show")
            shown = [(None, self.style.path_name)] + ([(None, self.style.field_name)] if self.style.show_field else [])
            self.out.statement(self.call("visualize", "visualize", shown))


def render(
    problem: Problem, style: Style, defect: Defect | None = None, angle_words: dict[float, str] | None = None
) -> str:
    """NAVA source for ``problem`` in ``style`` (not yet canonically formatted); ``angle_words`` are the
    request's words for its angles (see ``Phraser.angle_words``), which the notes repeat."""
    return _Renderer(problem, style, defect, angle_words or {}).render()
