"""The checker: one test per rule of the reference's "Checking" section, with exact positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nava_instruct.nava import Diagnostic, NavaError, check, extract_spec, format_source


def program(
    manifold="euclidean_plane()",
    start="[0.0, 0.0]",
    goal="[5.0, 5.0]",
    obstacles="[]",
    cost="geodesic_cost()",
    tail="let path = compute_optimal_path(field)\nvisualize(path, field)\n",
) -> str:
    # Line 1: the manifold (value at col 9); 3: manifold: M (col 13); 4: start (col 10); 5: goal (col 9);
    # 6: obstacles (col 14, first obstacle at col 15); 7: cost (col 9); 9: the path.
    return (
        f"let M = {manifold}\nlet field = navigation_field(\n  manifold: M,\n  start: {start},\n  goal: {goal},\n"
        f"  obstacles: {obstacles},\n  cost: {cost}\n)\n{tail}"
    )


def in_space(obstacles: str) -> str:
    """A program in R3 from the origin to [5, 5, 5] among ``obstacles``."""
    return program(manifold="euclidean_space()", start="[0.0, 0.0, 0.0]", goal="[5.0, 5.0, 5.0]", obstacles=obstacles)


def on_sphere(obstacles: str) -> str:
    """A program on the unit sphere from [1, 0, 0] to [0, 1, 0] among ``obstacles``."""
    return program(manifold="sphere()", start="[1.0, 0.0, 0.0]", goal="[0.0, 1.0, 0.0]", obstacles=obstacles)


def diagnostics(source: str) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.col, d.severity, d.message) for d in check(source, "t.nava")]


def assert_reports(source: str, *expected: tuple[int, int, str, str]) -> None:
    """Exactly the expected diagnostics: (line, col, severity, a fragment of the message)."""
    found = diagnostics(source)
    assert len(found) == len(expected), found
    for (line, col, severity, message), (want_line, want_col, want_severity, fragment) in zip(found, expected):
        assert (line, col, severity) == (want_line, want_col, want_severity), found
        assert fragment in message, found


def test_a_valid_program_has_no_diagnostics():
    assert diagnostics(program()) == []


def test_diagnostic_format():
    diagnostic = Diagnostic("a.nava", 4, 10, "error", "boom")
    assert str(diagnostic) == "a.nava:4:10: error: boom"
    assert str(check(program(start="[0.0]"), "a.nava")[0]).startswith("a.nava:4:10: error: ")


# Names: builtins, arguments, bindings.


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            program(manifold="euclidean_plan()"),
            [(1, 9, "error", "unknown builtin 'euclidean_plan'; did you mean 'euclidean_plane'?")],
        ),
        (program(manifold="flat_world()"), [(1, 9, "error", "unknown builtin 'flat_world'")]),
        (
            program(obstacles="[disc(centre: [2.0, 2.0], radius: 1.0)]"),
            [
                (6, 15, "error", "disc() is missing argument 'center'"),
                (6, 20, "error", "disc() has no argument 'centre'; did you mean 'center'?"),
            ],
        ),
        (
            program(obstacles="[disc(center: [2.0, 2.0], radius: 1.0, radius: 0.5)]"),
            [(6, 53, "error", "argument 'radius' is given twice")],
        ),
        (
            program(tail="let path = compute_optimal_path(field: field, field)\n"),
            [
                (2, 13, "warning", "this field is never passed to compute_optimal_path"),
                (9, 47, "error", "positional argument after named arguments"),
            ],
        ),
        (
            program(obstacles="[disc([2.0, 2.0], 1.0)]"),
            [
                (6, 15, "error", "disc() is missing argument 'center'"),
                (6, 15, "error", "disc() is missing argument 'radius'"),
                (6, 20, "error", "disc() takes named arguments only (center:, radius:)"),
                (6, 32, "error", "disc() takes named arguments only"),
            ],
        ),
        (
            program(tail="let path = compute_optimal_path(field)\nvisualize(path, field, field)\n"),
            [(10, 24, "error", "visualize() takes at most 2 positional arguments")],
        ),
        (program(goal="goal"), [(5, 9, "error", "unknown name 'goal'")]),
        (program(manifold="euclidean_plane"), [(1, 9, "error", "'euclidean_plane' is a builtin; call it")]),
        (program(cost="geodesic_cost()") + "let M = se2()\n", [(11, 1, "error", "'M' is already bound on line 1")]),
        (
            "let M = euclidean_plane()\nlet field = navigation_field(manifold: M, start: start, goal: [1.0, 1.0])\n"
            "let start = [0.0, 0.0]\nlet path = compute_optimal_path(field)\n",
            [
                (2, 50, "error", "'start' is used before its let on line 3"),
                (3, 1, "warning", "'start' is bound but never used"),
            ],
        ),
        (
            "let M = euclidean_plane()\nlet start = [0.0, 0.0]\n"
            "let field = navigation_field(manifold: M, start: strat, goal: [1.0, 1.0])\n"
            "let path = compute_optimal_path(field)\n",
            [
                (2, 1, "warning", "'start' is bound but never used"),
                (3, 50, "error", "unknown name 'strat'; did you mean 'start'?"),
            ],
        ),
        (
            "let let = 1.0\n" + program(),
            [(1, 1, "error", "'let' is a keyword"), (1, 1, "warning", "'let' is bound but never used")],
        ),
    ],
)
def test_names(source, expected):
    assert_reports(source, *expected)


def test_missing_argument_is_reported_at_the_call():
    source = (
        "let field = navigation_field(\n  manifold: se2(),\n  start: [0.0, 0.0, 0.0]\n)\n"
        "let p = compute_optimal_path(field)\n"
    )
    assert_reports(source, (1, 13, "error", "navigation_field() is missing argument 'goal'"))


# Types and dimensions.


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            program(manifold="[0.0, 0.0]"),
            [(3, 13, "error", "navigation_field(manifold:) expects a manifold, got a list")],
        ),
        (program(cost="disc(center: [9.0, 9.0], radius: 1.0)"), [(7, 9, "error", "expects a cost, got an obstacle")]),
        (program(obstacles="[[1.0, 1.0]]"), [(6, 15, "error", "expects obstacles, got a list")]),
        (program(obstacles="geodesic_cost()"), [(6, 14, "error", "expects a list of obstacles, got a cost")]),
        (program(start='"origin"'), [(4, 10, "error", "expects a point or an angle, got a string")]),
        (program(start='[0.0, "x"]'), [(4, 10, "error", "expects a list of numbers")]),
        (
            program(obstacles="[disc(center: [2.0, 2.0], radius: [1.0])]"),
            [(6, 48, "error", "expects a number, got a list")],
        ),
        (program(cost="cost_function(type: 3.0)"), [(7, 29, "error", "expects a string, got a number")]),
        (program() + "compute_optimal_path(M)\n", [(11, 22, "error", "expects a field, got a manifold")]),
        (program(start="[0.0, 0.0, 0.0]"), [(4, 10, "error", "start on R2 must have 2 coordinates, got 3")]),
        (
            program(manifold="euclidean_space(dim: 3)", start="[0.0, 0.0, 0.0]", goal="[1.0, 1.0]"),
            [(5, 9, "error", "goal on R3 must have 3 coordinates, got 2")],
        ),
        (
            program(manifold="se2()", start="[0.0, 0.0]", goal="[1.0, 1.0, 0.5]"),
            [(4, 10, "error", "start on SE2 must have 3 coordinates, got 2")],
        ),
        (
            program(manifold="se3()", start="[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]", goal="[1.0, 1.0, 1.0]"),
            [(5, 9, "error", "goal on SE3 must have 6 coordinates, got 3")],
        ),
        (
            program(manifold="circle()", start="[0.0, 1.0]", goal="1.0"),
            [(4, 10, "error", "start on S1 must be an angle")],
        ),
        (program(start="1.0"), [(4, 10, "error", "start on R2 must be a point of 2 coordinates, got a number")]),
        (
            program(obstacles="[disc(center: [2.0, 2.0, 2.0], radius: 1.0)]"),
            [(6, 28, "error", "disc center must have 2 coordinates, got 3")],
        ),
    ],
)
def test_types_and_dimensions(source, expected):
    assert_reports(source, *expected)


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        ("[2.0, 0.0, 0.0]", True),
        ("[0.0, 0.0, 2.0019]", True),
        ("[0.0, 0.0, 2.0021]", False),
        ("[1.0, 0.0, 0.0]", False),
        ("[1.2, 1.6, 0.0]", True),
    ],
)
def test_points_on_the_sphere(start, ok):
    source = program(manifold="sphere(radius: 2.0)", start=start, goal="[0.0, 2.0, 0.0]")
    if ok:
        assert diagnostics(source) == []
    else:
        assert_reports(source, (4, 10, "error", "start is not on the sphere of radius 2.0"))


@pytest.mark.parametrize(
    ("manifold", "obstacle", "message"),
    [
        ("sphere()", "disc(center: [1.0, 1.0], radius: 0.5)", "disc obstacle does not fit S2 (obstacles on S2: cap)"),
        (
            "euclidean_plane()",
            "box(min_corner: [1.0, 1.0, 1.0], max_corner: [2.0, 2.0, 2.0])",
            "box obstacle does not fit R2",
        ),
        ("euclidean_plane()", "sphere(center: [1.0, 1.0, 1.0], radius: 0.5)", "sphere obstacle does not fit R2"),
        (
            "euclidean_space(dim: 3)",
            "arc(from: 1.0, to: 2.0)",
            "arc obstacle does not fit R3 (obstacles on R3: sphere, box)",
        ),
        ("circle()", "cap(center: [0.0, 0.0, 1.0], angle: 0.5)", "cap obstacle does not fit S1 (obstacles on S1: arc)"),
        (
            "se2()",
            "sphere(center: [1.0, 1.0, 1.0], radius: 0.5)",
            "sphere obstacle does not fit SE2 (obstacles on SE2: disc, rectangle)",
        ),
    ],
)
def test_obstacle_must_fit_the_manifold(manifold, obstacle, message):
    points = {
        "sphere()": ("[1.0, 0.0, 0.0]", "[0.0, 1.0, 0.0]"),
        "circle()": ("0.0", "1.0"),
        "se2()": ("[0.0, 0.0, 0.0]", "[5.0, 5.0, 0.0]"),
    }
    start, goal = points.get(
        manifold, ("[0.0, 0.0, 0.0]", "[5.0, 5.0, 5.0]") if "space" in manifold else ("[0.0, 0.0]", "[5.0, 5.0]")
    )
    assert_reports(
        program(manifold=manifold, start=start, goal=goal, obstacles=f"[{obstacle}]"), (6, 15, "error", message)
    )


# Start or goal inside an obstacle (obstacles are closed: touching counts).


@pytest.mark.parametrize(
    ("manifold", "start", "obstacle", "inside"),
    [
        ("euclidean_plane()", "[2.0, 2.5]", "disc(center: [2.0, 2.0], radius: 1.0)", True),
        ("euclidean_plane()", "[3.0, 2.0]", "disc(center: [2.0, 2.0], radius: 1.0)", True),
        ("euclidean_plane()", "[3.01, 2.0]", "disc(center: [2.0, 2.0], radius: 1.0)", False),
        ("euclidean_plane()", "[4.0, 3.0]", "rectangle(min_corner: [3.0, 2.0], max_corner: [5.0, 4.0])", True),
        ("euclidean_plane()", "[4.0, 4.5]", "rectangle(min_corner: [3.0, 2.0], max_corner: [5.0, 4.0])", False),
        ("se2()", "[2.0, 2.0, 3.0]", "disc(center: [2.0, 2.0], radius: 1.0)", True),
        ("se2()", "[0.0, 0.0, 2.0]", "disc(center: [2.0, 2.0], radius: 1.0)", False),
        ("euclidean_space(dim: 3)", "[2.0, 2.0, 2.5]", "sphere(center: [2.0, 2.0, 2.0], radius: 1.0)", True),
        ("euclidean_space(dim: 3)", "[2.0, 2.9, 2.9]", "sphere(center: [2.0, 2.0, 2.0], radius: 1.0)", False),
        (
            "euclidean_space(dim: 3)",
            "[1.5, 1.5, 1.5]",
            "box(min_corner: [1.0, 1.0, 1.0], max_corner: [2.0, 2.0, 2.0])",
            True,
        ),
        (
            "euclidean_space(dim: 3)",
            "[1.5, 1.5, 2.5]",
            "box(min_corner: [1.0, 1.0, 1.0], max_corner: [2.0, 2.0, 2.0])",
            False,
        ),
        (
            "se3()",
            "[1.5, 1.5, 1.5, 0.0, 9.0, 0.0]",
            "box(min_corner: [1.0, 1.0, 1.0], max_corner: [2.0, 2.0, 2.0])",
            True,
        ),
        ("circle()", "0.2", "arc(from: 5.5, to: 0.5)", True),  # wraps past 2*pi
        ("circle()", "6.0", "arc(from: 5.5, to: 0.5)", True),
        ("circle()", "1.0", "arc(from: 5.5, to: 0.5)", False),
        ("circle()", "3.0", "arc(from: 2.0, to: 4.0)", True),
        ("circle()", "3.0", "arc(from: 4.0, to: 2.0)", False),  # the long way round, which misses 3.0
        ("circle()", "9.0", "arc(from: 2.0, to: 4.0)", True),  # 9 - 2*pi = 2.717
        ("circle()", "-3.0", "arc(from: 2.0, to: 4.0)", True),  # -3 + 2*pi = 3.283
        ("sphere()", "[0.0, 0.0, 1.0]", "cap(center: [0.0, 0.0, 1.0], angle: 0.5)", True),
        ("sphere()", "[0.389418, 0.0, 0.921061]", "cap(center: [0.0, 0.0, 1.0], angle: 0.5)", True),  # 0.4 rad away
        ("sphere()", "[0.565, 0.0, 0.825]", "cap(center: [0.0, 0.0, 1.0], angle: 0.5)", False),  # 0.6 rad away
    ],
)
def test_start_inside_an_obstacle(manifold, start, obstacle, inside):
    goal = {
        "circle()": {"arc(from: 5.5, to: 0.5)": "3.0", "arc(from: 2.0, to: 4.0)": "5.0"}.get(obstacle, "2.5"),
        "sphere()": "[1.0, 0.0, 0.0]",
        "se2()": "[9.0, 9.0, 0.0]",
        "se3()": "[9.0, 9.0, 9.0, 0.0, 0.0, 0.0]",
    }.get(manifold, "[9.0, 9.0, 9.0]" if "space" in manifold else "[9.0, 9.0]")
    source = program(manifold=manifold, start=start, goal=goal, obstacles=f"[{obstacle}]")
    if inside:
        kind = obstacle.split("(")[0]
        assert_reports(source, (4, 10, "error", f"lies inside the {kind} obstacle on line 6"))
    else:
        assert diagnostics(source) == []


def test_inside_is_reported_where_the_point_is_written():
    source = (
        "let M = euclidean_plane()\nlet o = disc(center: [2.0, 2.0], radius: 1.0)\nlet g = [2.0, 2.0]\n"
        "let field = navigation_field(manifold: M, start: [9.0, 9.0], goal: g, obstacles: [o])\n"
        "let path = compute_optimal_path(field)\n"
    )
    assert_reports(source, (3, 9, "error", "goal [2.0, 2.0] lies inside the disc obstacle on line 2"))


# Invalid numbers.


COST_ERRORS = [
    ("cost_function(length_weight: 1.0, jerk_weight: -0.5)", 56, "weights must be >= 0, got -0.5"),
    ("cost_function(length_weight: 0.0, jerk_weight: 0.0)", 9, "cost_function weights are all zero"),
    ("cost_function()", 9, "cost_function needs a type or at least one weight"),
    (
        'cost_function(type: "time_optimall", max_velocity: 2.0)',
        29,
        "unknown cost type \"time_optimall\"; did you mean 'time_optimal'?",
    ),
    ('cost_function(type: "fastest")', 29, 'unknown cost type "fastest"'),
    ('cost_function(type: "time_optimal", max_velocity: 0.0)', 59, "max_velocity must be > 0"),
    (
        'cost_function(type: "time_optimal", max_velocity: 1.0, max_acceleration: -2.0)',
        82,
        "max_acceleration must be > 0",
    ),
    ('cost_function(type: "time_optimal")', 9, "time_optimal cost_function is missing argument 'max_velocity'"),
    ('cost_function(type: "energy_optimal", energy_weight: 0.0)', 62, "energy_weight must be > 0"),
    ('cost_function(type: "energy_optimal", max_velocity: 2.0)', 9, "takes no 'max_velocity'"),
    (
        "cost_function(length_weight: 1.0, max_velocity: 2.0)",
        9,
        "takes 'max_velocity' only with type: \"time_optimal\"",
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            program(manifold="circle(radius: 0.0)", start="0.0", goal="1.0"),
            (1, 24, "circle radius must be > 0, got 0.0"),
        ),
        (
            program(manifold="sphere(radius: -1.0)", start="[1.0, 0.0, 0.0]", goal="[0.0, 1.0, 0.0]"),
            (1, 24, "sphere radius must be > 0, got -1.0"),
        ),
        (program(obstacles="[disc(center: [2.0, 2.0], radius: -1.0)]"), (6, 48, "disc radius must be > 0")),
        (
            in_space("[sphere(center: [2.0, 2.0, 2.0], radius: 0.0)]"),
            (6, 55, "sphere radius must be > 0"),
        ),
        (
            program(obstacles="[rectangle(min_corner: [3.0, 2.0], max_corner: [5.0, 2.0])]"),
            (6, 15, "rectangle min_corner must be below max_corner in every coordinate"),
        ),
        (
            in_space("[box(min_corner: [3.0, 2.0, 1.0], max_corner: [1.0, 3.0, 2.0])]"),
            (6, 15, "box min_corner"),
        ),
        (
            on_sphere("[cap(center: [0.0, 0.0, -1.0], angle: 0.0)]"),
            (6, 52, "cap angle must be between 0 and pi"),
        ),
        (
            on_sphere("[cap(center: [0.0, 0.0, -1.0], angle: 3.1415927)]"),
            (6, 52, "cap angle must be between 0 and pi"),
        ),
        (
            on_sphere("[cap(center: [0.0, 0.0, -2.0], angle: 0.5)]"),
            (6, 15, "cap center is not on the sphere"),
        ),
        (
            program(manifold="circle()", start="0.0", goal="1.0", obstacles="[arc(from: 2.0, to: 2.0)]"),
            (6, 15, "arc from and to are the same angle"),
        ),
        (program(manifold="euclidean_space(dim: 4)"), (1, 30, "euclidean_space dim must be 3, got 4.0")),
        (program(start="[1e999, 0.0]"), (4, 11, "number 1e999 is out of range")),
    ],
)
def test_invalid_numbers(source, expected):
    assert_reports(source, (expected[0], expected[1], "error", expected[2]))


@pytest.mark.parametrize("cost, column, message", COST_ERRORS)
def test_invalid_costs(cost, column, message):
    assert_reports(program(cost=cost), (7, column, "error", message))


def test_dim_2_is_the_plane_with_a_warning():
    source = program(manifold="euclidean_space(dim: 2)")
    assert_reports(source, (1, 30, "warning", "euclidean_space(dim: 2) is the plane R2; write euclidean_plane()"))
    assert extract_spec(source)["problems"][0]["manifold"] == {"kind": "R2"}


# Warnings.


def test_unused_binding_is_a_warning_but_a_bound_path_is_the_result():
    assert_reports(
        "let extra = [1.0, 2.0]\n" + program(tail="let path = compute_optimal_path(field)\n"),
        (1, 1, "warning", "'extra' is bound but never used"),
    )


def test_one_element_list_on_s1_is_the_angle_with_a_warning():
    source = program(manifold="circle(radius: 2.0)", start="[0.5]", goal="1.0")
    assert_reports(source, (4, 10, "warning", "start on S1 is an angle; [θ] is read as θ"))
    problem = extract_spec(source)["problems"][0]
    assert (problem["start"], problem["goal"], problem["manifold"]) == (0.5, 1.0, {"kind": "S1", "radius": 2.0})


def test_a_field_without_compute_optimal_path_is_a_warning():
    assert_reports(program(tail=""), (2, 13, "warning", "this field is never passed to compute_optimal_path"))
    assert extract_spec(program(tail=""))["problems"][0]["computed"] is False


def test_a_discarded_value_is_a_warning():
    assert_reports(
        program() + "disc(center: [9.0, 9.0], radius: 1.0)\n", (11, 1, "warning", "the value of disc(...) is discarded")
    )


# Programs as a whole.


@pytest.mark.parametrize("source", ["", "\n\n", "// nothing yet\n", "let x = 1.0\nlet y = x\n"])
def test_a_program_without_a_navigation_field_is_an_error(source):
    assert any(d[:3] == (1, 1, "error") and "no navigation_field" in d[3] for d in diagnostics(source))


def test_visualize_with_the_wrong_field_is_an_error():
    source = (
        program() + "let other = navigation_field(manifold: M, start: [1.0, 1.0], goal: [2.0, 2.0])\n"
        "let p2 = compute_optimal_path(other)\nvisualize(path, other)\n"
    )
    assert_reports(source, (13, 1, "error", "visualize: the path was computed from another field"))


def test_visualize_gives_no_value():
    assert_reports(
        program(tail="let path = compute_optimal_path(field)\nlet v = visualize(path)\n"),
        (10, 9, "error", "visualize(...) gives no value to bind"),
    )


def test_each_field_is_a_problem_with_its_own_flags():
    source = (
        program(tail="") + "let second = navigation_field(manifold: M, start: [1.0, 1.0], goal: [2.0, 2.0])\n"
        "visualize(compute_optimal_path(second))\n"
    )
    first, second = extract_spec(source)["problems"]
    assert (first["computed"], first["visualized"], second["computed"], second["visualized"]) == (
        False,
        False,
        True,
        True,
    )
    assert second["start"] == [1.0, 1.0]


def test_positional_and_named_field_argument_mean_the_same():
    named = program(tail="let path = compute_optimal_path(field: field)\nvisualize(path: path, field: field)\n")
    assert diagnostics(named) == []
    assert extract_spec(named) == extract_spec(program())


def test_diagnostics_are_sorted_by_position():
    found = check(program(start="[0.0]", goal="[1.0]", obstacles="[box()]"))
    assert [(d.line, d.col) for d in found] == sorted((d.line, d.col) for d in found)
    assert len(found) >= 2


@pytest.mark.parametrize(
    ("source", "line", "col", "fragment"),
    [
        ("let x = (1)\n", 1, 9, "unexpected '('"),
        ("let M = euclidean_plane(\n", 1, 24, "'(' is never closed"),
        ("let M = f(a: [1, 2)\n", 1, 19, "unmatched ')'; the '[' at 1:14 is still open"),
        ("let M = f(a: 1))\n", 1, 16, "unmatched ')'"),
        ("let x = 1 2\n", 1, 11, "unexpected number 2; expected end of line"),
        ('let s = "open\n', 1, 9, "unterminated string"),
        ("let x = 1\x00\n", 1, 10, "unexpected character '\\x00'"),
        ("let x = 5 -- comment\n", 1, 11, "'--' does not start a comment in NAVA; comments start with //"),
        ("-- a DAAT comment\nlet x = 5\n", 1, 1, "this is the DAAT/PDL timing-contract dialect"),
        ("program p⋋\nend program\n", 1, 1, "DAAT/PDL"),
    ],
)
def test_syntax_errors_are_one_clean_diagnostic(source, line, col, fragment):
    (diagnostic,) = check(source)
    assert (diagnostic.line, diagnostic.col, diagnostic.severity) == (line, col, "error")
    assert fragment in diagnostic.message
    with pytest.raises(NavaError):
        format_source(source)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_any_text_gives_diagnostics_never_an_exception(text):
    found = check(text)
    assert all(d.line >= 1 and d.col >= 1 and d.severity in ("error", "warning") for d in found)
    try:
        canonical = format_source(text)
    except NavaError as error:
        assert len(error.diagnostics) == 1 and str(error) == str(error.diagnostics[0])
    else:
        assert format_source(canonical) == canonical
