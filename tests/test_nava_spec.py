"""The spec: its exact shape per manifold, obstacle and cost; what does not change it; and
spec_difference with its tolerance and tolerance-aware obstacle multisets."""

from __future__ import annotations

import copy

import pytest

from nava_instruct.nava import NavaError, extract_spec, spec_difference


def problem_of(source: str) -> dict:
    (problem,) = extract_spec(source)["problems"]
    return problem


def test_se3_with_a_box_and_a_ball_and_a_time_optimal_cost():
    source = """let f = navigation_field(
  manifold: se3(),
  start: [0, 0, 0, 0.1, 0.2, 0.3],
  goal: [9, 9, 9, 0, 0, 0],
  obstacles: [sphere(center: [5, 5, 5], radius: 1), box(min_corner: [1, 1, 1], max_corner: [2, 3, 4])],
  cost: cost_function(type: "time_optimal", max_velocity: 2, max_acceleration: 0.5)
)
visualize(compute_optimal_path(f), f)
"""
    assert problem_of(source) == {
        "manifold": {"kind": "SE3"},
        "start": [0.0, 0.0, 0.0, 0.1, 0.2, 0.3],
        "goal": [9.0, 9.0, 9.0, 0.0, 0.0, 0.0],
        "obstacles": [
            {"kind": "ball", "center": [5.0, 5.0, 5.0], "radius": 1.0},
            {"kind": "box", "min_corner": [1.0, 1.0, 1.0], "max_corner": [2.0, 3.0, 4.0]},
        ],
        "cost": {"kind": "time_optimal", "max_velocity": 2.0, "max_acceleration": 0.5},
        "computed": True,
        "visualized": True,
    }


def test_s1_with_arcs_and_the_default_energy_weight():
    source = """let f = navigation_field(manifold: circle(radius: 2), start: 1, goal: [1.5],
  obstacles: [arc(from: 5, to: 0.5), arc(from: 2, to: 3)], cost: cost_function(type: "energy_optimal"))
compute_optimal_path(f)
"""
    assert problem_of(source) == {
        "manifold": {"kind": "S1", "radius": 2.0},
        "start": 1.0,
        "goal": 1.5,
        "obstacles": [{"kind": "arc", "from": 2.0, "to": 3.0}, {"kind": "arc", "from": 5.0, "to": 0.5}],
        "cost": {"kind": "energy_optimal", "energy_weight": 1.0},
        "computed": True,
        "visualized": False,
    }


def test_s2_with_caps_and_a_weighted_cost_fills_absent_weights_with_zero():
    source = """let f = navigation_field(manifold: sphere(), start: [0, 0, 1], goal: [1, 0, 0],
  obstacles: [cap(center: [0, -1, 0], angle: 0.3)], cost: cost_function(jerk_weight: 2))
compute_optimal_path(f)
"""
    problem = problem_of(source)
    assert problem["manifold"] == {"kind": "S2", "radius": 1.0}
    assert problem["obstacles"] == [{"kind": "cap", "center": [0.0, -1.0, 0.0], "angle": 0.3}]
    assert problem["cost"] == {
        "kind": "weighted",
        "length_weight": 0.0,
        "curvature_weight": 0.0,
        "jerk_weight": 2.0,
        "energy_weight": 0.0,
    }


def test_defaults_r2_and_r3():
    r2 = problem_of("let f = navigation_field(manifold: euclidean_plane(), start: [0, 0], goal: [1, 1])\n")
    assert (r2["manifold"], r2["obstacles"], r2["cost"], r2["computed"]) == (
        {"kind": "R2"},
        [],
        {"kind": "geodesic"},
        False,
    )
    r3 = problem_of("let f = navigation_field(manifold: euclidean_space(), start: [0, 0, 0], goal: [1, 1, 1])\n")
    assert r3["manifold"] == {"kind": "R3"}


def test_names_comments_order_layout_and_inlining_do_not_change_the_spec():
    bound = """let M = euclidean_plane()
let start = [0.0, 0.0]
let goal = [5.0, 5.0]
let a = disc(center: [2.0, 2.0], radius: 1.0)
let b = rectangle(min_corner: [3.0, -1.0], max_corner: [4.0, 0.5])
let field = navigation_field(manifold: M, start: start, goal: goal, obstacles: [a, b])
let path = compute_optimal_path(field)
visualize(path, field)
"""
    inlined = """// the same problem
visualize(compute_optimal_path(field: navigation_field(
    goal: [5, 5], start: [0, 0],  // reordered
    obstacles: [rectangle(max_corner: [4, 0.5], min_corner: [3, -1]), disc(radius: 1, center: [2, 2]),],
    cost: geodesic_cost(), manifold: euclidean_plane())))
"""
    assert extract_spec(inlined) == extract_spec(bound)


def test_a_program_with_errors_has_no_spec():
    with pytest.raises(NavaError, match=r"x\.nava:1:\d+: error: "):
        extract_spec("let f = navigation_field(manifold: euclidean_plane(), start: [0], goal: [1, 1])\n", "x.nava")


def test_the_spec_is_plain_json_with_float_numbers():
    problem = problem_of(
        "let f = navigation_field(manifold: se2(), start: [0, 0, 0], goal: [1, 2, 3],"
        " obstacles: [disc(center: [5, 5], radius: 1)])\n"
    )
    assert all(type(x) is float for x in problem["start"] + problem["goal"] + problem["obstacles"][0]["center"])


# spec_difference

BASE = {
    "problems": [
        {
            "manifold": {"kind": "R2"},
            "start": [0.0, 0.0],
            "goal": [5.0, 5.0],
            "obstacles": [
                {"kind": "disc", "center": [1.0, 5.0], "radius": 1.0},
                {"kind": "disc", "center": [1.0004, 2.0], "radius": 1.0},
            ],
            "cost": {"kind": "geodesic"},
            "computed": True,
            "visualized": False,
        }
    ]
}


def changed(path: str, value) -> dict:
    spec = copy.deepcopy(BASE)
    target = spec["problems"][0]
    *keys, last = path.split(".")
    for key in keys:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return spec


def test_equal_specs_have_no_difference():
    assert spec_difference(BASE, copy.deepcopy(BASE)) is None


@pytest.mark.parametrize(
    ("path", "value", "difference"),
    [
        ("goal.1", 4.0, "problems[0].goal[1]: 5.0 != 4.0"),
        ("goal.1", 5.0011, "problems[0].goal[1]: 5.0 != 5.0011"),
        ("goal.1", 5.0009, None),
        ("goal.1", 4.9991, None),
        ("start", 0.0, "problems[0].start: [0.0, 0.0] != 0.0"),
        ("visualized", True, "problems[0].visualized: false != true"),
        (
            "cost",
            {
                "kind": "weighted",
                "length_weight": 1.0,
                "curvature_weight": 0.0,
                "jerk_weight": 0.0,
                "energy_weight": 0.0,
            },
            'problems[0].cost.kind: "geodesic" != "weighted"',
        ),
        ("manifold", {"kind": "R2", "radius": 1.0}, "problems[0].manifold.radius: only in the second spec"),
        ("obstacles", [], "problems[0].obstacles: 2 items != 0 items"),
    ],
)
def test_differences(path, value, difference):
    assert spec_difference(BASE, changed(path, value)) == difference


def test_the_tolerance_can_be_set():
    assert spec_difference(BASE, changed("goal.1", 5.04), tol=0.05) is None
    assert spec_difference(BASE, changed("goal.1", 5.04), tol=0.01) == "problems[0].goal[1]: 5.0 != 5.04"


def test_a_different_number_of_problems():
    assert spec_difference(BASE, {"problems": []}) == "problems: 1 items != 0 items"


def test_obstacles_match_as_a_multiset_up_to_the_tolerance():
    # Sorted by exact values the pairs would cross: (1.0, 5.0)-(1.0, 2.0) and (1.0004, 2.0)-(1.0003, 5.0).
    other = changed(
        "obstacles",
        [
            {"kind": "disc", "center": [1.0003, 5.0], "radius": 1.0},
            {"kind": "disc", "center": [1.0, 2.0], "radius": 1.0},
        ],
    )
    assert spec_difference(BASE, other) is None
    assert spec_difference(other, BASE) is None


def test_obstacle_matching_is_a_maximum_matching_not_greedy():
    def disc(radius):
        return {"kind": "disc", "center": [0.0, 0.0], "radius": radius}

    # x fits both of the other's obstacles, y only the first: a greedy x->first would leave y alone.
    mine = changed("obstacles", [disc(1.0005), disc(1.0015)])
    theirs = changed("obstacles", [disc(1.001), disc(1.0)])
    assert spec_difference(mine, theirs) is None


def test_an_obstacle_without_a_match_is_named():
    other = changed(
        "obstacles",
        [
            {"kind": "disc", "center": [1.0, 5.0], "radius": 2.0},
            {"kind": "disc", "center": [1.0004, 2.0], "radius": 1.0},
        ],
    )
    assert spec_difference(BASE, other) == "problems[0].obstacles[0].radius: 1.0 != 2.0"
