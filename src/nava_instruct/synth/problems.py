"""Random navigation problems with "nice" numbers, as typed :class:`Problem`s.

Coordinates are multiples of 0.5, radii, weights and speeds come from short lists of exact
decimals, angles are multiples of pi/12 (stored with seven decimals, as the code writes them),
and S^2 points are exact decimal points of the sphere. Obstacles stay in program order here (the
toolkit sorts them). Start and goal keep a margin from every obstacle, obstacles are distinct,
and on S^1 the arcs never overlap and leave one way round the circle open.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from functools import lru_cache
from itertools import permutations, product

from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES, WEIGHT_NAMES, Point, Problem

RADII = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
HALF_SIZES = (0.5, 1.0, 1.5)
WEIGHT_VALUES = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
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
    multiple = round(value * 12 / math.pi)
    if abs(angle(multiple) - value) > 1e-6:
        raise ValueError(f"{value} is not a multiple of pi/12")
    return multiple


@lru_cache(maxsize=None)
def sphere_points(radius: float) -> tuple[tuple[float, float, float], ...]:
    """Points of the sphere of ``radius`` whose coordinates have at most two decimals."""
    points = set()
    for *direction, length in _QUADRUPLES:
        for ordered in set(permutations(direction)):
            coords = [radius * value / length for value in ordered]
            if any(abs(coord * 100 - round(coord * 100)) > 1e-9 for coord in coords):
                continue
            for signs in product((1, -1), repeat=3):
                points.add(tuple(round(sign * coord, 2) + 0.0 for sign, coord in zip(signs, coords)))
    return tuple(sorted(points))


def _coord(rng: random.Random, low: int, high: int) -> float:
    """A coordinate in [low, high]: an integer most of the time, otherwise a half."""
    if rng.random() < 0.7:
        return float(rng.randint(low, high))
    return rng.randint(2 * low, 2 * high) / 2


def _sphere_angle(first, second) -> float:
    dot = sum(x * y for x, y in zip(first, second)) / (math.dist(first, (0, 0, 0)) * math.dist(second, (0, 0, 0)))
    return math.acos(max(-1.0, min(1.0, dot)))


def _arc_steps(arc: dict) -> set[int]:
    """The multiples of pi/12 (mod 24) covered by an arc, ends included."""
    start, end = twelfths(arc["from"]), twelfths(arc["to"])
    return {step % 24 for step in range(start, end + 1)}


def too_close(manifold: str, obstacle: dict, point: Point) -> bool:
    """Whether ``point`` lies inside ``obstacle`` or within the generator's margin of it."""
    if "radius" in obstacle:  # a disc or a ball
        return math.dist(MANIFOLDS[manifold].position(point), obstacle["center"]) < obstacle["radius"] + MARGIN
    if "min_corner" in obstacle:  # a rectangle or a box
        position = MANIFOLDS[manifold].position(point)
        return all(
            low - MARGIN < x < high + MARGIN
            for x, low, high in zip(position, obstacle["min_corner"], obstacle["max_corner"])
        )
    if obstacle["kind"] == "arc":
        return twelfths(point) % 24 in _arc_steps(obstacle)
    return _sphere_angle(point, obstacle["center"]) < obstacle["angle"] + CAP_MARGIN


def is_free(problem: Problem, point: Point) -> bool:
    return not any(too_close(problem.manifold, obstacle, point) for obstacle in problem.obstacles)


def _circle_passable(start: float, goal: float, arcs: list[dict]) -> bool:
    """On S^1, whether one of the two ways from start to goal crosses no arc."""
    start_step, goal_step = twelfths(start) % 24, twelfths(goal) % 24
    blocked = set().union(*(_arc_steps(arc) for arc in arcs))
    counter_clockwise = {(start_step + step) % 24 for step in range((goal_step - start_step) % 24 + 1)}
    clockwise = {(goal_step + step) % 24 for step in range((start_step - goal_step) % 24 + 1)}
    return not (counter_clockwise & blocked) or not (clockwise & blocked)


def sample_radius(rng: random.Random, manifold: str) -> float | None:
    """The radius of a circle or a sphere; None for a manifold without one."""
    if manifold == "S1":
        return rng.choice(CIRCLE_RADII)
    if manifold == "S2":
        return rng.choice(SPHERE_RADII)
    return None


def sample_point(rng: random.Random, manifold: str, radius: float | None, heading: int | None = None) -> Point:
    """A point of the manifold: a position, a pose, an angle or a point of the sphere.

    ``heading`` (in twelfths of pi) fixes the angle on S^1, the heading on SE(2) or the yaw on SE(3).
    """
    if manifold == "S1":
        return angle(rng.randint(-6, 23) if heading is None else heading)
    if manifold == "S2":
        return list(rng.choice(sphere_points(radius)))
    point = [_coord(rng, -4, 10) for _ in range(MANIFOLDS[manifold].position_dims)]
    if manifold == "SE2":
        point.append(angle(rng.randint(-11, 12)))
    elif manifold == "SE3":
        point += [angle(rng.randint(-6, 6)), angle(rng.randint(-5, 5)), angle(rng.randint(-11, 12))]
    if heading is not None and manifold in ("SE2", "SE3"):
        point[-1] = angle(heading)
    return point


def far_enough(manifold: str, start: Point, goal: Point) -> bool:
    """Start and goal are clearly apart (and not antipodal on S^2)."""
    if manifold == "S1":
        return twelfths(start) % 24 != twelfths(goal) % 24
    if manifold == "S2":
        return 0.5 < _sphere_angle(start, goal) < math.pi - 0.3
    space = MANIFOLDS[manifold]
    return math.dist(space.position(start), space.position(goal)) >= 3.0


def _draw_obstacle(rng: random.Random, problem: Problem, kind: str) -> dict:
    if kind == "arc":
        span = rng.choice((2, 3, 4, 6))
        first = rng.randint(0, 23 - span)
        return {"kind": "arc", "from": angle(first), "to": angle(first + span)}
    if kind == "cap":
        return {
            "kind": "cap",
            "center": list(rng.choice(sphere_points(problem.radius))),
            "angle": angle(rng.randint(1, 4)),
        }
    space = MANIFOLDS[problem.manifold]
    start, goal = space.position(problem.start), space.position(problem.goal)
    along = rng.uniform(0.25, 0.75)
    center = [round(2 * (x + along * (y - x) + rng.uniform(-1.5, 1.5))) / 2 + 0.0 for x, y in zip(start, goal)]
    if "radius" in OBSTACLES[kind].params:
        return {"kind": kind, "center": center, "radius": rng.choice(RADII)}
    half = [rng.choice(HALF_SIZES) for _ in center]
    return {
        "kind": kind,
        "min_corner": [middle - size for middle, size in zip(center, half)],
        "max_corner": [middle + size for middle, size in zip(center, half)],
    }


def sample_obstacle(rng: random.Random, problem: Problem) -> dict | None:
    """A new obstacle for ``problem`` that keeps start and goal free, or None if none was found."""
    kinds = MANIFOLDS[problem.manifold].obstacles
    for _ in range(TRIES):
        obstacle = _draw_obstacle(rng, problem, rng.choice(kinds))
        if obstacle in problem.obstacles or any(
            too_close(problem.manifold, obstacle, point) for point in (problem.start, problem.goal)
        ):
            continue
        if obstacle["kind"] == "arc":
            steps = _arc_steps(obstacle)
            near = {(step + side) % 24 for arc in problem.obstacles for step in _arc_steps(arc) for side in (-1, 0, 1)}
            if steps & near or not _circle_passable(problem.start, problem.goal, [*problem.obstacles, obstacle]):
                continue
        return obstacle
    return None


def valid(problem: Problem) -> bool:
    """Start and goal apart and free, and (on S^1) a way round the arcs: what every problem keeps."""
    start, goal = problem.start, problem.goal
    if not far_enough(problem.manifold, start, goal) or not (is_free(problem, start) and is_free(problem, goal)):
        return False
    return problem.manifold != "S1" or _circle_passable(start, goal, list(problem.obstacles))


def sample_cost(rng: random.Random, kind: str) -> dict:
    if kind == "geodesic":
        return {"kind": "geodesic"}
    if kind == "weighted":
        chosen = rng.sample(WEIGHT_NAMES, rng.choice((1, 2, 2, 3, 3, 4)))
        return {
            "kind": "weighted",
            **{name: rng.choice(WEIGHT_VALUES) if name in chosen else 0.0 for name in WEIGHT_NAMES},
        }
    if kind == "time_optimal":
        return {
            "kind": "time_optimal",
            "max_velocity": rng.choice(SPEEDS),
            "max_acceleration": rng.choice(SPEEDS) if rng.random() < 0.5 else None,
        }
    return {
        "kind": "energy_optimal",
        "energy_weight": 1.0 if rng.random() < 0.5 else rng.choice([value for value in WEIGHT_VALUES if value != 1.0]),
    }


def sample_outputs(rng: random.Random) -> tuple[bool, bool]:
    """(computed, visualized): usually both, sometimes only the path, sometimes just the field."""
    roll = rng.random()
    return (True, True) if roll < 0.78 else (True, False) if roll < 0.92 else (False, False)


def sample_problem(
    rng: random.Random, manifold: str, n_obstacles: int, cost_kind: str, start_heading: int | None = None
) -> Problem:
    """A random problem on ``manifold`` with exactly ``n_obstacles`` obstacles and that cost kind;
    ``start_heading`` fixes the start's angle (see :func:`sample_point`)."""
    space = MANIFOLDS[manifold]
    for _ in range(TRIES):
        radius = sample_radius(rng, manifold)
        start, goal = sample_point(rng, manifold, radius, start_heading), sample_point(rng, manifold, radius)
        if space.position_dims is not None and rng.random() < 0.15:  # start at the origin, as people often do
            start = [0.0] * space.position_dims + start[space.position_dims :]
        if not far_enough(manifold, start, goal):
            continue
        computed, visualized = sample_outputs(rng)
        cost = sample_cost(rng, cost_kind)
        problem = Problem(
            manifold=manifold,
            radius=radius,
            start=start,
            goal=goal,
            obstacles=(),
            cost=cost,
            computed=computed,
            visualized=visualized,
        )
        while len(problem.obstacles) < n_obstacles:
            obstacle = sample_obstacle(rng, problem)
            if obstacle is None:
                break
            problem = replace(problem, obstacles=(*problem.obstacles, obstacle))
        if len(problem.obstacles) == n_obstacles:
            return problem
    raise RuntimeError(f"could not draw a {manifold} problem with {n_obstacles} obstacles")
