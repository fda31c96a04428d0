"""The meaning checks: what a request states, and which programs contradict it (no model)."""

import math

import pytest

from nava_instruct.reading.claims import contradictions, derivable, read
from nava_instruct.reading.quantities import stated_numbers

PLANE = """let manifold = euclidean_plane()
let start = [0.0, 0.0]
let goal = [4.0, 3.0]
{obstacles}
let field = navigation_field(manifold: manifold, start: start, goal: goal, obstacles: [{names}])
let path = compute_optimal_path(field)
visualize(path, field)
"""
SE2 = """let manifold = se2()
let start = [0.0, 0.0, {heading}]
let goal = [4.0, 3.0, 0.0]
let field = navigation_field(manifold: manifold, start: start, goal: goal)
let path = compute_optimal_path(field)
visualize(path, field)
"""


def plane(*obstacles: str, comment: str = "") -> str:
    lines = [f"let o{index} = {obstacle}" for index, obstacle in enumerate(obstacles)]
    names = ", ".join(f"o{index}" for index in range(len(obstacles)))
    return comment + PLANE.format(obstacles="\n".join(lines), names=names)


def test_stated_numbers_read_angles_in_radians():
    assert stated_numbers("(1, -2.5) facing 90°, yaw −pi/4, 0.3 rad") == pytest.approx(
        [1.0, -2.5, math.pi / 2, -math.pi / 4, 0.3]
    )


@pytest.mark.parametrize(
    ("request_", "program", "found"),
    [
        ("R2 from (0,0) to (4,3), disc at (2,1) r 0.5", plane("disc(center: [2.0, 1.0], radius: 0.5)"), []),
        ("R2 from (0,0) to (4,3), disc at (2,1) r 0.5", plane("disc(center: [2.0, 1.0], radius: 0.7)"), ["0.7"]),
        ("from (0,0) to (4,3), no obstacles", plane("disc(center: [2.0, 1.0], radius: 1.0)"), ["no obstacles"]),
        ("from (0,0) to (4,3), no obstacles, please comment it", plane(comment="// plan\n"), []),
        ("from (0,0) to (4,3), please comment each step", plane(), ["comments"]),
        ("SE(2) from (0,0) to (4,3)", plane(), ["names SE2"]),
        ("S^2 or R2? from (0,0) to (4,3)", plane(), []),  # two manifolds named: none is read
        # one step of arithmetic: a 2 x 1 rectangle centred at (2, 1) has corners (1, 0.5) and (3, 1.5)
        (
            "from (0,0) to (4,3), a 2 by 1 rectangle centred at (2, 1)",
            plane("rectangle(min_corner: [1.0, 0.5], max_corner: [3.0, 1.5])"),
            [],
        ),
        ("SE(2) from (0,0) heading 30° to (4,3)", SE2.format(heading="0.5235988"), []),
        ("SE(2) from (0,0) heading 30° to (4,3)", SE2.format(heading="1.0471976"), ["1.0471976"]),
        ("SE(2) from (0,0) heading 0.2 rad to (4,3)", SE2.format(heading="0.2617994"), ["0.2617994"]),
        ("SE(2) from (0,0) heading -30° to (4,3)", SE2.format(heading="0.5235988"), ["0.5235988"]),
    ],
)
def test_contradictions(request_, program, found):
    lines = contradictions(read(request_), program)
    assert len(lines) == len(found), lines
    for line, expected in zip(lines, found):
        assert expected in line


def test_the_context_states_numbers_too():
    program = plane("disc(center: [2.0, 1.0], radius: 0.7)")
    assert contradictions(read("add a disc of radius 0.7 at (2, 1)"), program)  # 4 and 3 are the earlier program's
    assert contradictions(read("add a disc of radius 0.7 at (2, 1)", context=plane()), program) == []


def test_derivable_has_no_negation_of_a_stated_number():
    assert not any(abs(value + 0.5235988) < 1e-3 for value in derivable((0.0, 4.0, 3.0, 0.5235988)))
