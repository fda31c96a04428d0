"""Why a prompt→code answer fails: its failure categories, and how many of its values are right.

Stage ``evaluate`` grades a code answer by three verdicts (it parses, it checks, its spec matches the
reference's); this module says what went wrong in one that fails, so that a table (``failures`` in each
backend's metrics, ``benchmarks/failure_table.py``) shows where a model errs. ``diagnose`` reads one graded
sample (its answer, reference, ``stopped_at_eos`` and verdict); an answer may fall in several categories,
one whose spec matches falls in none.

- ``truncated``: it does not parse and did not stop at EOS (cut off at ``max_new_tokens``);
- ``syntax``: it does not parse, though it stopped;
- ``pose_shape``: the checker rejects a point of the wrong shape: a start, goal, centre or corner with
  the wrong number of coordinates, a number where a point is wanted or a point where an angle is;
- ``check``: any other checker error.

An answer that checks is compared with the reference's spec, each building one problem:

- ``manifold``: the manifold's kind or radius differs. Where the kind differs the points lie in other
  spaces, so only the obstacle count, the cost and the flags are compared further;
- ``angle``: an angle differs: the start or goal on S1, θ of an SE(2) pose (index 2), roll, pitch or
  yaw of an SE(3) pose (indices 3..5), an arc's ``from`` or ``to``, a cap's ``angle``;
- ``other_number``: a coordinate differs: of the start or goal, of an obstacle's centre, or a
  rectangle's or box's corners where its extents (max_corner - min_corner) stay the same (it moved);
- ``obstacle_kind_or_size``: an obstacle paired with one of another kind, or with another radius, or
  a rectangle or box with other extents (resized; whether it also moved is not told apart);
- ``invented_obstacle``, ``missing_obstacle``: more, or fewer, obstacles than the reference;
- ``cost``: the cost's kind or any of its parameters differs;
- ``computed_visualized``: the path is computed or drawn where the reference's is not, or the reverse;
- ``other``: the answer or the reference builds several problems, or nothing above explains the mismatch.

Obstacles are paired as multisets, so their order does not matter: greedily, the same kind first, then
the nearest (the sum of the absolute differences of their numbers). Numbers agree as spec match has them
agree (``nava.spec_difference``: within 1e-3, angles not reduced mod 2π).

Per-value accuracy: in an answer that checks and builds one problem on the reference's kind of manifold,
each coordinate of the reference (of the start, the goal, obstacle centres and corners) and each of its
non-zero angles is right when the answer has the same value in the same place: the same index of the start
or goal, the same parameter of the paired obstacle. The values of a missing obstacle, or of one paired with
an obstacle of another kind, are wrong; an invented obstacle adds none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nava_instruct import nava
from nava_instruct.nava.diagnostics import errors
from nava_instruct.nava.domain import OBSTACLES
from nava_instruct.nava.scoring import extract_code
from nava_instruct.nava.spec import obstacle_key

TRUNCATED, SYNTAX, POSE_SHAPE, CHECK = "truncated", "syntax", "pose_shape", "check"
MANIFOLD, ANGLE, OTHER_NUMBER, KIND_OR_SIZE = "manifold", "angle", "other_number", "obstacle_kind_or_size"
INVENTED, MISSING, COST, FLAGS, OTHER = "invented_obstacle", "missing_obstacle", "cost", "computed_visualized", "other"
CATEGORIES = (  # in the order a table lists them: the earliest step that fails first
    *(TRUNCATED, SYNTAX, POSE_SHAPE, CHECK),
    *(MANIFOLD, ANGLE, OTHER_NUMBER, KIND_OR_SIZE, INVENTED, MISSING, COST, FLAGS, OTHER),
)

# The checker's words for a point of the wrong shape (nava/builtins.py `point`, `_location`; checker.py `check_type`).
SHAPE_ERROR = re.compile(
    r"must have \d+ coordinates, got \d+|must be an angle \(a number\)|must be a point of \d+ coordinates"
    r"|expects a point"
)

COORDINATE, SIZE = "coordinate", "size"  # the roles of a value; ANGLE is the third
ROLE_CATEGORY = {COORDINATE: OTHER_NUMBER, ANGLE: ANGLE, SIZE: KIND_OR_SIZE}
POSE_ANGLES = {"S1": (0,), "SE2": (2,), "SE3": (3, 4, 5)}  # indices of a start or goal that are angles
PARAM_ROLES = {
    "center": COORDINATE,
    "min_corner": COORDINATE,
    "max_corner": COORDINATE,
    "radius": SIZE,
    "from": ANGLE,
    "to": ANGLE,
    "angle": ANGLE,
}

Value = tuple[str, float]  # (role, number)
Compared = tuple[str, float, bool]  # (role, the reference's number, the answer has it)


@dataclass(frozen=True)
class Diagnosis:
    """One answer's failure categories (in ``CATEGORIES`` order; none when it passes) and its values
    compared: (right, of the reference's) coordinates and non-zero angles."""

    categories: tuple[str, ...]
    coordinates: tuple[int, int] = (0, 0)
    angles: tuple[int, int] = (0, 0)


def same(first, second) -> bool:
    """Two spec values agree as spec match has them agree."""
    return nava.spec_difference(first, second) is None


def point_values(manifold: str, point) -> list[Value]:
    """A start or goal's numbers with their roles: angles (S1's point, a pose's orientation) or coordinates."""
    numbers = point if isinstance(point, list) else [point]
    angles = POSE_ANGLES.get(manifold, ())
    return [(ANGLE if index in angles else COORDINATE, number) for index, number in enumerate(numbers)]


def obstacle_values(obstacle: dict) -> list[Value]:
    """An obstacle's numbers with their roles, its parameters in the order code writes them."""
    return [
        (PARAM_ROLES[name], number)
        for name in OBSTACLES[obstacle["kind"]].params
        for number in (obstacle[name] if isinstance(obstacle[name], list) else [obstacle[name]])
    ]


def compared(reference: list[Value], answer: list[Value]) -> list[Compared]:
    """The reference's values, each right where the answer has the same number at the same index."""
    return [
        (role, number, index < len(answer) and same(number, answer[index][1]))
        for index, (role, number) in enumerate(reference)
    ]


def _distance(reference: dict, answer: dict) -> float:
    if reference["kind"] != answer["kind"]:
        return 0.0  # the kind decides first
    return sum(abs(a - b) for a, b in zip(obstacle_key(reference)[1], obstacle_key(answer)[1]))


def pair_obstacles(answer: list[dict], reference: list[dict]) -> tuple[list[tuple[dict, dict | None]], list[dict]]:
    """Each reference obstacle with its partner in the answer (None: missing), and the answer's obstacles left
    over (invented). Pairs are taken greedily: the same kind first, then the nearest."""
    candidates = sorted(
        (ref["kind"] != ans["kind"], _distance(ref, ans), i, j)
        for i, ref in enumerate(reference)
        for j, ans in enumerate(answer)
    )
    partner: dict[int, int] = {}
    for _, _, i, j in candidates:
        if i not in partner and j not in partner.values():
            partner[i] = j
    pairs = [(ref, answer[partner[i]] if i in partner else None) for i, ref in enumerate(reference)]
    return pairs, [ans for j, ans in enumerate(answer) if j not in partner.values()]


def obstacle_comparison(reference: dict, answer: dict | None) -> list[Compared]:
    """The reference obstacle's values against its partner's; all wrong without one of the same kind."""
    same_kind = answer is not None and answer["kind"] == reference["kind"]
    return compared(obstacle_values(reference), obstacle_values(answer) if same_kind else [])


def ends_compared(answer: dict, reference: dict) -> list[Compared]:
    """The reference's start and goal values against the answer's, on the same kind of manifold."""
    kind = reference["manifold"]["kind"]
    return [
        value
        for end in ("start", "goal")
        for value in compared(point_values(kind, reference[end]), point_values(kind, answer[end]))
    ]


def values_compared(answer: dict, reference: dict, pairs: list[tuple[dict, dict | None]]) -> list[Compared]:
    """Every value of the reference (start, goal, paired obstacles) against the answer's; same manifold kind."""
    obstacles = [value for ref, ans in pairs for value in obstacle_comparison(ref, ans)]
    return ends_compared(answer, reference) + obstacles


def _extents(obstacle: dict) -> list[float]:
    return [high - low for low, high in zip(obstacle["min_corner"], obstacle["max_corner"])]


def obstacle_categories(reference: dict, answer: dict) -> set[str]:
    """What differs between a reference obstacle and its partner."""
    if answer["kind"] != reference["kind"]:
        return {KIND_OR_SIZE}
    found = {ROLE_CATEGORY[role] for role, _, right in obstacle_comparison(reference, answer) if not right}
    if "min_corner" in reference and OTHER_NUMBER in found and not same(_extents(reference), _extents(answer)):
        found = (found - {OTHER_NUMBER}) | {KIND_OR_SIZE}  # resized, not moved
    return found


def spec_categories(answer: dict, reference: dict, pairs: list, invented: list) -> set[str]:
    """What differs between two problems, ``pairs`` and ``invented`` being their obstacles paired."""
    found = {
        MANIFOLD: not same(answer["manifold"], reference["manifold"]),
        INVENTED: bool(invented),
        MISSING: any(ans is None for _, ans in pairs),
        COST: not same(answer["cost"], reference["cost"]),
        FLAGS: any(answer[flag] != reference[flag] for flag in ("computed", "visualized")),
    }
    categories = {category for category, differs in found.items() if differs}
    if answer["manifold"]["kind"] != reference["manifold"]["kind"]:
        return categories
    categories |= {ROLE_CATEGORY[role] for role, _, right in ends_compared(answer, reference) if not right}
    for ref, ans in pairs:
        categories |= obstacle_categories(ref, ans) if ans is not None else set()
    return categories


def check_categories(code: str) -> set[str]:
    """``pose_shape`` and/or ``check``, by the checker's errors."""
    messages = [diagnostic.message for diagnostic in errors(nava.check(code))]
    return {POSE_SHAPE if SHAPE_ERROR.search(message) else CHECK for message in messages} or {CHECK}


def single_problem(source: str) -> dict | None:
    """The spec of the one problem a program builds; None if it builds several, or none."""
    problems = nava.extract_spec(source)["problems"]
    return problems[0] if len(problems) == 1 else None


def tally(values: list[Compared], role: str) -> tuple[int, int]:
    """(right, compared) among the values of ``role``; an angle counts only where the reference's is not 0."""
    counted = [right for kind, number, right in values if kind == role and (role != ANGLE or not same(number, 0.0))]
    return sum(counted), len(counted)


def ordered(categories: set[str]) -> tuple[str, ...]:
    return tuple(category for category in CATEGORIES if category in categories)


def diagnose(sample: dict) -> Diagnosis:
    """The failure categories of one graded prompt→code sample and its values compared (see the module)."""
    verdict = sample["verdict"]
    if not verdict["parsed"]:
        return Diagnosis((SYNTAX if sample["stopped_at_eos"] else TRUNCATED,))
    code = extract_code(sample["answer"])
    if not verdict["checked"]:
        return Diagnosis(ordered(check_categories(code)))
    answer, reference = single_problem(code), single_problem(sample["reference"])
    if answer is None or reference is None:
        return Diagnosis(() if verdict["spec_match"] else (OTHER,))
    pairs, invented = pair_obstacles(answer["obstacles"], reference["obstacles"])
    categories = set() if verdict["spec_match"] else spec_categories(answer, reference, pairs, invented) or {OTHER}
    if answer["manifold"]["kind"] != reference["manifold"]["kind"]:
        return Diagnosis(ordered(categories))
    values = values_compared(answer, reference, pairs)
    return Diagnosis(ordered(categories), tally(values, COORDINATE), tally(values, ANGLE))
