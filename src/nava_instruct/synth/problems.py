"""Random navigation problems with "nice" numbers, as typed :class:`Problem`s.

Coordinates are multiples of 0.5, radii, weights and speeds come from short lists of exact
decimals, angles are whole degrees, fractions of pi or radians with two decimals at most (one kind
per problem mostly: see :mod:`synth.angles`), and S^2 points are exact decimal points of the
sphere. Obstacles stay in program order here (the toolkit sorts them). Start and goal keep a margin
from every obstacle, obstacles are distinct, and on S^1 the arcs keep apart and leave one way
round the circle open.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from functools import lru_cache
from itertools import permutations, product

from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES, WEIGHT_NAMES, Point, Problem
from nava_instruct.synth import angles

RADII = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
HALF_SIZES = (0.5, 1.0, 1.5)
WEIGHT_VALUES = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
SPEEDS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
CIRCLE_RADII = (1.0, 1.0, 0.5, 1.5, 2.0, 3.0)
SPHERE_RADII = (1.0, 1.0, 2.0, 3.0, 5.0)
MARGIN = 0.5  # distance kept between start/goal and a Euclidean obstacle
CAP_MARGIN = 0.15  # radians kept between start/goal and a cap
ARC_MARGIN = 0.2  # radians kept between start/goal and an arc
ARC_GAP = 0.5  # radians kept between two arcs
CIRCLE_SEPARATION = 0.3  # radians at least between start and goal on S^1
# The ranges of the angles drawn, in degrees (low, high).
CIRCLE_RANGE = (-90, 345)  # a point of S^1
HEADING_RANGE = (-165, 180)  # the heading on SE(2), the yaw on SE(3)
ROLL_RANGE, PITCH_RANGE = (-90, 90), (-75, 75)
CAP_RANGE = (10, 60)
ARC_START_RANGE, ARC_SPAN_RANGE = (0, 300), (30, 90)
TRIES = 60

# Integer solutions of a^2 + b^2 + c^2 = d^2: the directions of exact decimal points on spheres.
_QUADRUPLES = ((1, 0, 0, 1), (3, 4, 0, 5), (1, 2, 2, 3), (2, 3, 6, 7), (9, 12, 20, 25), (12, 15, 16, 25))


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


def ccw_offset(origin: float, angle: float) -> float:
    """How far counter-clockwise ``angle`` lies from ``origin``, in [0, 2pi)."""
    return (angle - origin) % math.tau


def _arc_span(arc: dict) -> tuple[float, float]:
    """An arc as (start, length): swept counter-clockwise from ``from`` to ``to``, as the toolkit reads it."""
    return arc["from"], ccw_offset(arc["from"], arc["to"])


def spans_meet(first: tuple[float, float], second: tuple[float, float], gap: float = 0.0) -> bool:
    """Whether two counter-clockwise spans (start, length) of the circle come within ``gap`` of each other."""
    (first_start, first_length), (second_start, second_length) = first, second
    return (
        ccw_offset(first_start, second_start) <= first_length + gap
        or ccw_offset(second_start, first_start) <= second_length + gap
    )


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
        return spans_meet((point, 0.0), _arc_span(obstacle), ARC_MARGIN)
    return _sphere_angle(point, obstacle["center"]) < obstacle["angle"] + CAP_MARGIN


def is_free(problem: Problem, point: Point) -> bool:
    return not any(too_close(problem.manifold, obstacle, point) for obstacle in problem.obstacles)


def _circle_passable(start: float, goal: float, arcs: list[dict]) -> bool:
    """On S^1, whether one of the two ways from start to goal crosses no arc."""
    ways = ((start, ccw_offset(start, goal)), (goal, ccw_offset(goal, start)))
    return any(not any(spans_meet(way, _arc_span(arc)) for arc in arcs) for way in ways)


def sample_radius(rng: random.Random, manifold: str) -> float | None:
    """The radius of a circle or a sphere; None for a manifold without one."""
    if manifold == "S1":
        return rng.choice(CIRCLE_RADII)
    if manifold == "S2":
        return rng.choice(SPHERE_RADII)
    return None


def sample_point(rng: random.Random, manifold: str, radius: float | None, angle_kind: str | None = None) -> Point:
    """A point of the manifold: a position, a pose, an angle or a point of the sphere; its angles are
    of ``angle_kind`` (each of its own kind if None: see :mod:`synth.angles`)."""
    if manifold == "S1":
        return angles.draw(rng, *CIRCLE_RANGE, angle_kind)
    if manifold == "S2":
        return list(rng.choice(sphere_points(radius)))
    point = [_coord(rng, -4, 10) for _ in range(MANIFOLDS[manifold].position_dims)]
    ranges = {"SE2": (HEADING_RANGE,), "SE3": (ROLL_RANGE, PITCH_RANGE, HEADING_RANGE)}.get(manifold, ())
    return point + [angles.draw(rng, *limits, angle_kind) for limits in ranges]


def far_enough(manifold: str, start: Point, goal: Point) -> bool:
    """Start and goal are clearly apart (and not antipodal on S^2)."""
    if manifold == "S1":
        return min(ccw_offset(start, goal), ccw_offset(goal, start)) >= CIRCLE_SEPARATION
    if manifold == "S2":
        return 0.5 < _sphere_angle(start, goal) < math.pi - 0.3
    space = MANIFOLDS[manifold]
    return math.dist(space.position(start), space.position(goal)) >= 3.0


def cap_angle(rng: random.Random, angle_kind: str | None = None) -> float:
    """The angle of a cap, well inside (0, pi)."""
    return angles.draw(rng, *CAP_RANGE, angle_kind)


def _draw_arc(rng: random.Random, angle_kind: str | None) -> dict:
    """An arc within [0, 2pi) that sweeps between ARC_SPAN_RANGE degrees."""
    start = angles.draw(rng, *ARC_START_RANGE, angle_kind)
    shortest, longest = (math.degrees(start) + span for span in ARC_SPAN_RANGE)
    return {"kind": "arc", "from": start, "to": angles.draw(rng, shortest, min(longest, 359), angle_kind)}


def _draw_obstacle(rng: random.Random, problem: Problem, kind: str, angle_kind: str | None) -> dict:
    if kind == "arc":
        return _draw_arc(rng, angle_kind)
    if kind == "cap":
        return {
            "kind": "cap",
            "center": list(rng.choice(sphere_points(problem.radius))),
            "angle": cap_angle(rng, angle_kind),
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


def sample_obstacle(rng: random.Random, problem: Problem, angle_kind: str | None = None) -> dict | None:
    """A new obstacle for ``problem`` that keeps start and goal free, or None if none was found; its
    angles are of ``angle_kind`` (each of its own kind if None)."""
    kinds = MANIFOLDS[problem.manifold].obstacles
    for _ in range(TRIES):
        obstacle = _draw_obstacle(rng, problem, rng.choice(kinds), angle_kind)
        if obstacle in problem.obstacles or any(
            too_close(problem.manifold, obstacle, point) for point in (problem.start, problem.goal)
        ):
            continue
        if obstacle["kind"] == "arc":
            span = _arc_span(obstacle)
            if any(spans_meet(span, _arc_span(arc), ARC_GAP) for arc in problem.obstacles):
                continue
            if not _circle_passable(problem.start, problem.goal, [*problem.obstacles, obstacle]):
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


def sample_problem(rng: random.Random, manifold: str, n_obstacles: int, cost_kind: str) -> Problem:
    """A random problem on ``manifold`` with exactly ``n_obstacles`` obstacles and that cost kind."""
    space = MANIFOLDS[manifold]
    for _ in range(TRIES):
        radius, angle_kind = sample_radius(rng, manifold), angles.problem_kind(rng)
        start, goal = sample_point(rng, manifold, radius, angle_kind), sample_point(rng, manifold, radius, angle_kind)
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
            obstacle = sample_obstacle(rng, problem, angle_kind)
            if obstacle is None:
                break
            problem = replace(problem, obstacles=(*problem.obstacles, obstacle))
        if len(problem.obstacles) == n_obstacles:
            return problem
    raise RuntimeError(f"could not draw a {manifold} problem with {n_obstacles} obstacles")
