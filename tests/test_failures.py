"""The failure categories of prompt→code answers (``evaluation.failures``) and their summary in the metrics.

Each case is a reference program and an answer, both written by ``field_program`` from keyword arguments: the
answer as the reference with some arguments changed, or as text of its own.
"""

import pytest

from helpers import SHOWN, field_program, graded_sample
from nava_instruct.evaluation import failures
from nava_instruct.evaluation.metrics import failure_summary, failures_by_set, proportion, summarize

DISC = "disc(center: [2.0, 0.5], radius: 0.5)"
RECT = "rectangle(min_corner: [0.5, 2.0], max_corner: [1.5, 3.0])"
R2 = {"obstacles": (DISC, RECT)}
SE2 = {"manifold": "se2()", "start": "[0.0, 0.0, 1.0]", "goal": "[4.0, 4.0, 0.0]", "obstacles": (DISC,)}
SE3 = {
    "manifold": "se3()",
    "start": "[0.0, 0.0, 0.0, 0.5, 0.0, -1.0]",
    "goal": "[3.0, 3.0, 3.0, 0.0, 0.0, 0.0]",
    "obstacles": ("sphere(center: [1.5, 1.5, 1.5], radius: 0.5)",),
}
S1 = {"manifold": "circle()", "start": "0.5", "goal": "2.5", "obstacles": ("arc(from: 3.5, to: 4.5)",)}
S2 = {
    "manifold": "sphere()",
    "start": "[0.0, 0.0, 1.0]",
    "goal": "[1.0, 0.0, 0.0]",
    "obstacles": ("cap(center: [0.0, 1.0, 0.0], angle: 0.5)",),
}
WEIGHTED = "cost_function(length_weight: 1.0, curvature_weight: 0.5)"
ENERGY = 'cost_function(type: "energy_optimal", energy_weight: {})'
SECOND_FIELD = "let other = navigation_field(manifold: euclidean_plane(), start: [0.0, 0.0], goal: [1.0, 1.0])\n"
CUT = field_program(**R2)[:70]  # cut off inside the navigation_field call

# (reference's arguments, the answer: its changed arguments or its text, stopped at EOS, categories)
CASES = {
    "passes": (R2, {}, True, ()),
    "obstacle order does not matter": (R2, {"obstacles": (RECT, DISC)}, True, ()),
    "a number within the tolerance": (R2, {"goal": "[4.0, 4.0005]"}, True, ()),
    "a fenced answer is read": (R2, f"Here it is:\n```nava\n{field_program(**R2)}```\n", True, ()),
    "cut off at the token cap": (R2, CUT, False, ("truncated",)),
    "stopped, but not NAVA": (R2, CUT, True, ("syntax",)),
    "cut off where it still parses": (R2, {"tail": ""}, False, ("computed_visualized",)),
    "an SE(2) start of 2 coordinates": (SE2, {"start": "[0.0, 0.0]"}, True, ("pose_shape",)),
    "an S1 start as a point": (S1, {"start": "[0.5, 1.0]"}, True, ("pose_shape",)),
    "an SE(3) goal as a number": (SE3, {"goal": "3.0"}, True, ("pose_shape",)),
    "a disc centre of 3 coordinates": (
        R2, {"obstacles": ("disc(center: [2.0, 0.5, 0.0], radius: 0.5)", RECT)}, True, ("pose_shape",)
    ),
    "a negative radius": (R2, {"obstacles": ("disc(center: [2.0, 0.5], radius: -0.5)", RECT)}, True, ("check",)),
    "both checker errors": (
        SE2, {"start": "[0.0, 0.0]", "tail": SHOWN + "let M = euclidan_plane()\n"}, True, ("pose_shape", "check")
    ),
    "another manifold radius": (S1, {"manifold": "circle(radius: 2.0)"}, True, ("manifold",)),
    "another manifold kind": (SE2, {"manifold": "euclidean_plane()", "start": "[0.0, 0.0]", "goal": "[4.0, 4.0]"},
                              True, ("manifold",)),
    "SE(2) theta": (SE2, {"start": "[0.0, 0.0, 1.5]"}, True, ("angle",)),
    "SE(3) yaw": (SE3, {"start": "[0.0, 0.0, 0.0, 0.5, 0.0, -1.5]"}, True, ("angle",)),
    "an S1 goal": (S1, {"goal": "2.0"}, True, ("angle",)),
    "an arc's from": (S1, {"obstacles": ("arc(from: 3.6, to: 4.5)",)}, True, ("angle",)),
    "a cap's angle": (S2, {"obstacles": ("cap(center: [0.0, 1.0, 0.0], angle: 0.6)",)}, True, ("angle",)),
    "SE(2) x": (SE2, {"goal": "[4.5, 4.0, 0.0]"}, True, ("other_number",)),
    "an R2 goal": (R2, {"goal": "[4.0, 3.5]"}, True, ("other_number",)),
    "a disc's centre": (R2, {"obstacles": (RECT, "disc(center: [2.0, 0.7], radius: 0.5)")}, True, ("other_number",)),
    "a rectangle moved": (
        R2, {"obstacles": (DISC, "rectangle(min_corner: [0.5, 2.2], max_corner: [1.5, 3.2])")}, True,
        ("other_number",),
    ),
    "a rectangle resized": (
        R2, {"obstacles": (DISC, "rectangle(min_corner: [0.5, 2.0], max_corner: [1.5, 3.5])")}, True,
        ("obstacle_kind_or_size",),
    ),
    "a disc's radius": (
        R2, {"obstacles": ("disc(center: [2.0, 0.5], radius: 0.6)", RECT)}, True, ("obstacle_kind_or_size",)
    ),
    "a rectangle for a disc": (
        R2, {"obstacles": (RECT, "rectangle(min_corner: [1.5, 0.0], max_corner: [2.5, 1.0])")}, True,
        ("obstacle_kind_or_size",),
    ),
    "an obstacle too many": (
        R2, {"obstacles": (DISC, "disc(center: [3.0, 1.0], radius: 0.3)", RECT)}, True, ("invented_obstacle",)
    ),
    "an obstacle left out": (R2, {"obstacles": (RECT,)}, True, ("missing_obstacle",)),
    "another kind of cost": (R2, {"cost": WEIGHTED}, True, ("cost",)),
    "another cost weight": (R2 | {"cost": ENERGY.format(2.0)}, {"cost": ENERGY.format(1.0)}, True, ("cost",)),
    "not drawn": (R2, {"tail": "let path = compute_optimal_path(nav)\n"}, True, ("computed_visualized",)),
    "two fields": (R2, field_program(**R2) + SECOND_FIELD, True, ("other",)),
    "several at once": (
        SE2,
        {"goal": "[4.5, 4.0, 0.7]", "obstacles": (DISC, "disc(center: [3.0, 1.0], radius: 0.3)"), "cost": WEIGHTED},
        True,
        ("angle", "other_number", "invented_obstacle", "cost"),
    ),
}  # fmt: skip


def case_sample(reference_args: dict, answer: dict | str, stopped: bool) -> dict:
    """The graded sample of a case: the answer as the reference with ``answer``'s arguments, or as its text."""
    text = answer if isinstance(answer, str) else field_program(**(reference_args | answer))
    return graded_sample(field_program(**reference_args), text, stopped)


@pytest.mark.parametrize(("reference", "answer", "stopped", "expected"), CASES.values(), ids=CASES.keys())
def test_each_failure_has_its_categories(reference, answer, stopped, expected):
    sample = case_sample(reference, answer, stopped)
    assert failures.diagnose(sample).categories == expected
    assert sample["verdict"]["spec_match"] == (expected == ())  # the categories explain exactly the failures


# (case, (coordinates right, of), (non-zero angles right, of))
VALUES = {
    "passes": ((10, 10), (0, 0)),  # start, goal, the disc's centre, the rectangle's corners
    "obstacle order does not matter": ((10, 10), (0, 0)),
    "SE(2) theta": ((6, 6), (0, 1)),  # the goal's theta is 0: not counted
    "SE(3) yaw": ((9, 9), (1, 2)),
    "several at once": ((5, 6), (1, 1)),  # the goal's theta was 0; an invented obstacle adds no values
    "an S1 goal": ((0, 0), (3, 4)),  # start, goal, the arc's from and to
    "an arc's from": ((0, 0), (3, 4)),
    "a cap's angle": ((9, 9), (0, 1)),  # start, goal and the cap's centre on S2
    "an obstacle left out": ((8, 10), (0, 0)),  # the missing disc's centre is wrong
    "a rectangle for a disc": ((8, 10), (0, 0)),  # so is the centre of a disc paired with a rectangle
    "a rectangle resized": ((9, 10), (0, 0)),
    "another manifold kind": ((0, 0), (0, 0)),  # points of another space are not compared
    "an SE(2) start of 2 coordinates": ((0, 0), (0, 0)),  # nor are those of an answer that does not check
    "cut off at the token cap": ((0, 0), (0, 0)),
}


@pytest.mark.parametrize(("case", "coordinates", "angles"), [(case, *values) for case, values in VALUES.items()])
def test_values_are_compared_in_place_obstacles_paired(case, coordinates, angles):
    diagnosis = failures.diagnose(case_sample(*CASES[case][:3]))
    assert (diagnosis.coordinates, diagnosis.angles) == (coordinates, angles)


def test_obstacles_pair_by_kind_then_distance():
    near, far = (
        {"kind": "disc", "center": [0.0, 0.0], "radius": 1.0},
        {"kind": "disc", "center": [5.0, 5.0], "radius": 1.0},
    )
    box = {"kind": "rectangle", "min_corner": [0.0, 0.0], "max_corner": [1.0, 1.0]}
    answer = [
        box,
        {"kind": "disc", "center": [4.5, 5.0], "radius": 1.0},
        {"kind": "disc", "center": [0.2, 0.0], "radius": 1.0},
    ]
    pairs, invented = failures.pair_obstacles(answer, [far, near])
    assert pairs == [(far, answer[1]), (near, answer[2])] and invented == [box]
    pairs, invented = failures.pair_obstacles([box], [near, far])
    assert pairs == [(near, box), (far, None)] and invented == []


def test_the_summary_counts_categories_and_values():
    samples = [
        case_sample(*CASES[case][:3]) for case in ("passes", "SE(2) theta", "several at once", "stopped, but not NAVA")
    ]
    summary = failure_summary(samples)
    assert (summary["n"], summary["failing"]) == (4, 3)
    assert set(summary["categories"]) == set(failures.CATEGORIES)
    assert {name: count for name, count in summary["categories"].items() if count} == {
        "syntax": 1, "angle": 2, "other_number": 1, "invented_obstacle": 1, "cost": 1,
    }  # fmt: skip
    assert (summary["coordinate_values_right"], summary["coordinate_values"]) == (10 + 6 + 5, 10 + 6 + 6)
    assert (summary["angle_values_right"], summary["angle_values"]) == (0 + 1, 1 + 1)
    assert summary | proportion("coordinates_right", 21, 22) | proportion("angles_right", 1, 2) == summary
    assert failure_summary([]) == {"n": 0}


def test_without_values_there_is_no_rate():
    summary = failure_summary([case_sample(*CASES["cut off at the token cap"][:3])])
    assert summary["coordinate_values"] == 0 and "coordinates_right" not in summary and "angles_right" not in summary


def test_failures_come_by_set_prompt_to_code_only_generated_first():
    sample = case_sample(*CASES["passes"][:3])
    samples = [
        sample | {"set": "requests"},
        sample | {"set": "generated"},
        sample | {"set": "handwritten"},
        sample | {"set": "generated"},
        sample | {"family": "fix"},
    ]
    by_set = failures_by_set(samples)
    assert list(by_set) == ["generated", "handwritten", "requests"]
    assert [summary["n"] for summary in by_set.values()] == [2, 1, 1]
    assert failures_by_set([sample | {"family": "edit"}]) == {}


def test_each_backends_metrics_hold_its_failures_by_set():
    loop = {"tokens": 10, "attempts": 1, "first_checked": True, "first_spec_match": False}
    loop |= {"checker_checked": True, "checker_spec_match": False}
    samples = [
        case_sample(*CASES[case][:3]) | loop | {"set": name}
        for case, name in (("passes", "generated"), ("SE(2) theta", "generated"), ("an R2 goal", "requests"))
    ]
    figures = summarize(samples, seconds=1.0)
    assert list(figures["failures"]) == ["generated", "requests"] == ["generated", *figures["held_out"]]
    assert figures["failures"] == failures_by_set(samples)
    assert figures["failures"]["requests"]["categories"]["other_number"] == 1
