"""Random navigation problems with "nice" numbers, as PROBLEM dicts of the toolkit contract.

Coordinates are multiples of 0.5, radii, weights and speeds come from short lists of exact
decimals, angles are multiples of pi/12 (stored with seven decimals, as the code writes them),
and S^2 points are exact decimal points of the sphere. Obstacles stay in program order here (the
toolkit sorts them). Start and goal keep a margin from every obstacle, obstacles are distinct,
and on S^1 the arcs never overlap and leave one way round the circle open.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from itertools import permutations, product

OBSTACLE_KINDS = {
    "R2": ("disc", "rectangle"),
    "SE2": ("disc", "rectangle"),
    "R3": ("ball", "box"),
    "SE3": ("ball", "box"),
    "S1": ("arc",),
    "S2": ("cap",),
}
COST_KINDS = ("geodesic", "weighted", "time_optimal", "energy_optimal")
WEIGHT_NAMES = ("length_weight", "curvature_weight", "jerk_weight", "energy_weight")
RADII = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
HALF_SIZES = (0.5, 1.0, 1.5)
WEIGHTS = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
SPEEDS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
CIRCLE_RADII = (1.0, 1.0, 0.5, 1.5, 2.0, 3.0)
SPHERE_RADII = (1.0, 1.0, 2.0, 3.0, 5.0)
MARGIN = 0.5  # distance kept between start/goal and a Euclidean obstacle
CAP_MARGIN = 0.15  # radians kept between start/goal and a cap
TRIES = 60

# Integer solutions of a^2 + b^2 + c^2 = d^2: the directions of exact decimal points on spheres.
_QUADRUPLES = ((1, 0, 0, 1), (3, 4, 0, 5), (1, 2, 2, 3), (2, 3, 6, 7), (9, 12, 20, 25), (12, 15, 16, 25))


def angle(twelfths: int) -> float:
    """The angle ``twelfths * pi / 12`` in radians, rounded to seven decimals as written in code."""
    return round(twelfths * math.pi / 12, 7) + 0.0


def twelfths(value: float) -> int:
    """Invert :func:`angle`; every angle this module draws is a multiple of pi/12."""
    k = round(value * 12 / math.pi)
    if abs(angle(k) - value) > 1e-6:
        raise ValueError(f"{value} is not a multiple of pi/12")
    return k


@lru_cache(maxsize=None)
def sphere_points(radius: float) -> tuple[tuple[float, float, float], ...]:
    """Points of the sphere of ``radius`` whose coordinates have at most two decimals."""
    points = set()
    for *abc, d in _QUADRUPLES:
        for a, b, c in set(permutations(abc)):
            coords = [radius * v / d for v in (a, b, c)]
            if any(abs(x * 100 - round(x * 100)) > 1e-9 for x in coords):
                continue
            for signs in product((1, -1), repeat=3):
                points.add(tuple(round(s * x, 2) + 0.0 for s, x in zip(signs, coords)))
    return tuple(sorted(points))


def position(manifold: str, point) -> list[float]:
    """The position part of a point of a Euclidean manifold or a pose."""
    return list(point[:2]) if manifold == "SE2" else list(point[:3]) if manifold == "SE3" else list(point)


def _coord(rng: random.Random, low: int, high: int) -> float:
    """A coordinate in [low, high]: an integer most of the time, otherwise a half."""
    if rng.random() < 0.7:
        return float(rng.randint(low, high))
    return rng.randint(2 * low, 2 * high) / 2


def _sphere_angle(p, q) -> float:
    dot = sum(a * b for a, b in zip(p, q)) / (math.dist(p, (0, 0, 0)) * math.dist(q, (0, 0, 0)))
    return math.acos(max(-1.0, min(1.0, dot)))


def _arc_steps(arc: dict) -> set[int]:
    """The multiples of pi/12 (mod 24) covered by an arc, ends included."""
    start, end = twelfths(arc["from"]), twelfths(arc["to"])
    return {k % 24 for k in range(start, end + 1)}


def inside(problem: dict, obstacle: dict, point) -> bool:
    """Whether ``point`` lies inside ``obstacle`` or too close to it (with the generator's margin)."""
    kind, manifold = obstacle["kind"], problem["manifold"]["kind"]
    if kind in ("disc", "ball"):
        return math.dist(position(manifold, point), obstacle["center"]) < obstacle["radius"] + MARGIN
    if kind in ("rectangle", "box"):
        pos = position(manifold, point)
        return all(
            lo - MARGIN < x < hi + MARGIN for x, lo, hi in zip(pos, obstacle["min_corner"], obstacle["max_corner"])
        )
    if kind == "arc":
        return twelfths(point) % 24 in _arc_steps(obstacle)
    return _sphere_angle(point, obstacle["center"]) < obstacle["angle"] + CAP_MARGIN


def is_free(problem: dict, point, obstacles: list[dict] | None = None) -> bool:
    return not any(inside(problem, o, point) for o in (problem["obstacles"] if obstacles is None else obstacles))


def _circle_passable(start: float, goal: float, arcs: list[dict]) -> bool:
    """On S^1, whether one of the two ways from start to goal crosses no arc."""
    s, g = twelfths(start) % 24, twelfths(goal) % 24
    blocked = set().union(*(_arc_steps(arc) for arc in arcs))
    ccw = {(s + i) % 24 for i in range((g - s) % 24 + 1)}
    cw = {(g + i) % 24 for i in range((s - g) % 24 + 1)}
    return not (ccw & blocked) or not (cw & blocked)


def sample_manifold(rng: random.Random, kind: str) -> dict:
    if kind == "S1":
        return {"kind": "S1", "radius": rng.choice(CIRCLE_RADII)}
    if kind == "S2":
        return {"kind": "S2", "radius": rng.choice(SPHERE_RADII)}
    return {"kind": kind}


def sample_point(rng: random.Random, manifold: dict):
    """A point of the manifold: a position, a pose, an angle or a point of the sphere."""
    kind = manifold["kind"]
    if kind == "S1":
        return angle(rng.randint(-6, 23))
    if kind == "S2":
        return list(rng.choice(sphere_points(manifold["radius"])))
    dims = 2 if kind in ("R2", "SE2") else 3
    point = [_coord(rng, -4, 10) for _ in range(dims)]
    if kind == "SE2":
        point.append(angle(rng.randint(-11, 12)))
    elif kind == "SE3":
        point += [angle(rng.randint(-6, 6)), angle(rng.randint(-5, 5)), angle(rng.randint(-11, 12))]
    return point


def far_enough(manifold: dict, start, goal) -> bool:
    """Start and goal are clearly apart (and not antipodal on S^2)."""
    kind = manifold["kind"]
    if kind == "S1":
        return twelfths(start) % 24 != twelfths(goal) % 24
    if kind == "S2":
        return 0.5 < _sphere_angle(start, goal) < math.pi - 0.3
    return math.dist(position(kind, start), position(kind, goal)) >= 3.0


def _draw_obstacle(rng: random.Random, problem: dict, kind: str) -> dict:
    manifold = problem["manifold"]
    if kind == "arc":
        span = rng.choice((2, 3, 4, 6))
        first = rng.randint(0, 23 - span)
        return {"kind": "arc", "from": angle(first), "to": angle(first + span)}
    if kind == "cap":
        return {
            "kind": "cap",
            "center": list(rng.choice(sphere_points(manifold["radius"]))),
            "angle": angle(rng.randint(1, 4)),
        }
    a, b = position(manifold["kind"], problem["start"]), position(manifold["kind"], problem["goal"])
    t = rng.uniform(0.25, 0.75)
    center = [round(2 * (x + t * (y - x) + rng.uniform(-1.5, 1.5))) / 2 + 0.0 for x, y in zip(a, b)]
    if kind in ("disc", "ball"):
        return {"kind": kind, "center": center, "radius": rng.choice(RADII)}
    half = [rng.choice(HALF_SIZES) for _ in center]
    return {
        "kind": kind,
        "min_corner": [c - h for c, h in zip(center, half)],
        "max_corner": [c + h for c, h in zip(center, half)],
    }


def sample_obstacle(rng: random.Random, problem: dict, kind: str | None = None) -> dict | None:
    """A new obstacle for ``problem`` that keeps start and goal free, or None if none was found."""
    kinds = OBSTACLE_KINDS[problem["manifold"]["kind"]]
    for _ in range(TRIES):
        obstacle = _draw_obstacle(rng, problem, kind or rng.choice(kinds))
        if obstacle in problem["obstacles"] or any(
            inside(problem, obstacle, p) for p in (problem["start"], problem["goal"])
        ):
            continue
        if obstacle["kind"] == "arc":
            steps = _arc_steps(obstacle)
            near = {(k + d) % 24 for arc in problem["obstacles"] for k in _arc_steps(arc) for d in (-1, 0, 1)}
            if steps & near or not _circle_passable(
                problem["start"], problem["goal"], [*problem["obstacles"], obstacle]
            ):
                continue
        return obstacle
    return None


def valid(problem: dict) -> bool:
    """Start and goal apart and free, and (on S^1) a way round the arcs: what every problem keeps."""
    start, goal, obstacles = problem["start"], problem["goal"], problem["obstacles"]
    if not far_enough(problem["manifold"], start, goal) or not (is_free(problem, start) and is_free(problem, goal)):
        return False
    return problem["manifold"]["kind"] != "S1" or _circle_passable(start, goal, obstacles)


def sample_cost(rng: random.Random, kind: str) -> dict:
    if kind == "geodesic":
        return {"kind": "geodesic"}
    if kind == "weighted":
        chosen = rng.sample(WEIGHT_NAMES, rng.choice((1, 2, 2, 3, 3, 4)))
        return {"kind": "weighted", **{name: rng.choice(WEIGHTS) if name in chosen else 0.0 for name in WEIGHT_NAMES}}
    if kind == "time_optimal":
        return {
            "kind": "time_optimal",
            "max_velocity": rng.choice(SPEEDS),
            "max_acceleration": rng.choice(SPEEDS) if rng.random() < 0.5 else None,
        }
    return {
        "kind": "energy_optimal",
        "energy_weight": 1.0 if rng.random() < 0.5 else rng.choice([w for w in WEIGHTS if w != 1.0]),
    }


def sample_outputs(rng: random.Random) -> tuple[bool, bool]:
    """(computed, visualized): usually both, sometimes only the path, sometimes just the field."""
    roll = rng.random()
    return (True, True) if roll < 0.78 else (True, False) if roll < 0.92 else (False, False)


def sample_problem(rng: random.Random, manifold: str, n_obstacles: int, cost_kind: str) -> dict:
    """A random problem on ``manifold`` with exactly ``n_obstacles`` obstacles and that cost kind."""
    for _ in range(TRIES):
        space = sample_manifold(rng, manifold)
        start, goal = sample_point(rng, space), sample_point(rng, space)
        if manifold in ("R2", "R3", "SE2", "SE3") and rng.random() < 0.15:  # start at the origin, as people often do
            start = [0.0] * len(position(manifold, start)) + start[len(position(manifold, start)) :]
        if not far_enough(space, start, goal):
            continue
        computed, visualized = sample_outputs(rng)
        problem = {
            "manifold": space,
            "start": start,
            "goal": goal,
            "obstacles": [],
            "cost": sample_cost(rng, cost_kind),
            "computed": computed,
            "visualized": visualized,
        }
        while len(problem["obstacles"]) < n_obstacles:
            obstacle = sample_obstacle(rng, problem)
            if obstacle is None:
                break
            problem["obstacles"].append(obstacle)
        if len(problem["obstacles"]) == n_obstacles:
            return problem
    raise RuntimeError(f"could not draw a {manifold} problem with {n_obstacles} obstacles")
