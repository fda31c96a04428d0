"""The compatibility corpus: every hand-written program checks clean and means what its record says;
every DAAT/PDL program is rejected with one clear error.

EXPECTED was written by hand from each record's instruction (and, for explanation records whose
instruction names no numbers, from the explanation's prose), not by running the extractor.
"""

from __future__ import annotations

import math

import pytest

from helpers import DAAT, EVAL, PROGRAM_FIELD, TRAIN, program, records
from nava_instruct.nava import NavaError, check, extract_spec, format_source

R2, R3, SE2, S2 = {"kind": "R2"}, {"kind": "R3"}, {"kind": "SE2"}, {"kind": "S2", "radius": 1.0}
S1 = {"kind": "S1", "radius": 1.0}
GEODESIC = {"kind": "geodesic"}


def disc(x, y, r):
    return {"kind": "disc", "center": [x, y], "radius": r}


def weighted(length=0.0, curvature=0.0, jerk=0.0, energy=0.0):
    return {
        "kind": "weighted",
        "length_weight": length,
        "curvature_weight": curvature,
        "jerk_weight": jerk,
        "energy_weight": energy,
    }


# (file, index) -> (manifold, start, goal, obstacles, cost, visualized)
EXPECTED = {
    (TRAIN, 0): (R2, [0, 0], [5, 5], [], GEODESIC, True),
    (TRAIN, 1): (R2, [0, 0], [5, 5], [disc(2, 2, 1)], GEODESIC, True),
    (TRAIN, 2): (R2, [0, 0], [6, 4], [disc(2, 1, 0.8), disc(4, 3, 1)], GEODESIC, True),
    (TRAIN, 3): (S1, 0, math.pi / 2, [], GEODESIC, True),
    (TRAIN, 4): (R2, [0, 0], [10, 0], [], weighted(length=1, curvature=2, jerk=2), True),
    (TRAIN, 5): (
        R2,
        [0, 0],
        [8, 6],
        [{"kind": "rectangle", "min_corner": [3, 2], "max_corner": [5, 4]}],
        GEODESIC,
        True,
    ),
    (TRAIN, 6): (R3, [0, 0, 0], [5, 5, 5], [{"kind": "ball", "center": [2, 2, 2], "radius": 1}], GEODESIC, True),
    (TRAIN, 7): (SE2, [0, 0, 0], [5, 5, math.pi / 4], [], GEODESIC, True),
    (TRAIN, 8): (R2, [0, 0], [10, 0], [], {"kind": "time_optimal", "max_velocity": 2, "max_acceleration": None}, True),
    (TRAIN, 9): (
        R2,
        [0, 0],
        [8, 6],
        [disc(3, 2, 1), disc(6, 4, 1.2)],
        {"kind": "energy_optimal", "energy_weight": 1},
        True,
    ),
    (TRAIN, 10): (R2, [0, 0], [5, 5], [], GEODESIC, True),
    (TRAIN, 11): (R2, [0, 0], [6, 4], [disc(2, 1, 0.8), disc(4, 3, 1)], GEODESIC, True),
    (TRAIN, 12): (R2, [0, 0], [10, 0], [], weighted(length=1, curvature=2, jerk=2), False),
    (TRAIN, 13): (R2, [0, 0], [5, 5], [disc(2, 2, 1)], GEODESIC, False),
    (TRAIN, 14): (R2, [0, 0], [10, 0], [], weighted(length=1, curvature=2, jerk=2), False),
    (TRAIN, 15): (S1, 0, math.pi / 2, [], GEODESIC, False),
    (TRAIN, 16): (S2, [1, 0, 0], [0, 1, 0], [], GEODESIC, True),
    (TRAIN, 17): (R2, [0, 0], [7, 7], [disc(2, 2, 0.8), disc(3, 4, 0.8), disc(4, 2, 0.8)], GEODESIC, True),
    (TRAIN, 18): (R2, [0, 0], [3, 3], [], GEODESIC, True),
    (TRAIN, 19): (R2, [0, 0], [6, 6], [disc(3, 3, 1.5)], GEODESIC, False),
    (EVAL, 0): (R2, [1, 1], [6, 6], [disc(3, 3, 1.5)], GEODESIC, True),
    (EVAL, 1): (R2, [0, 0], [8, 4], [], weighted(length=1, curvature=3, jerk=1), True),
    (EVAL, 2): (R2, [0, 0], [4, 4], [disc(2, 2, 1)], GEODESIC, False),
    (EVAL, 3): (R2, [0, 0], [5, 5], [], weighted(length=1, curvature=2), False),
    (EVAL, 4): (SE2, [0, 0, 0], [5, 5, math.pi / 2], [], GEODESIC, False),
}


def kind_then_values(obstacle: dict) -> tuple:
    values = [v for key, v in obstacle.items() if key != "kind"]
    return obstacle["kind"], [float(x) for v in values for x in (v if isinstance(v, list) else [v])]


def approx(value):
    if isinstance(value, dict):
        return {key: approx(item) for key, item in value.items()}
    if isinstance(value, list):
        return [approx(item) for item in value]
    return value if value is None or isinstance(value, str | bool) else pytest.approx(value, abs=1e-3)


def test_the_tables_cover_every_record():
    for name in (TRAIN, EVAL):
        keys = {(name, index) for index in range(len(records(name)))}
        assert keys == {key for key in EXPECTED if key[0] == name} == {key for key in PROGRAM_FIELD if key[0] == name}


@pytest.mark.parametrize(("name", "index"), PROGRAM_FIELD)
def test_handwritten_program_checks_clean_and_means_what_its_record_says(name, index):
    text = program(name, index)
    errors = [str(d) for d in check(text) if d.severity == "error"]
    assert errors == []
    (problem,) = extract_spec(text)["problems"]
    manifold, start, goal, obstacles, cost, visualized = EXPECTED[(name, index)]
    assert problem["manifold"] == manifold
    assert problem["start"] == approx(start)
    assert problem["goal"] == approx(goal)
    assert problem["obstacles"] == approx(sorted(obstacles, key=kind_then_values))  # sorted canonically
    assert problem["cost"] == approx(cost)
    assert problem["computed"] is True
    assert problem["visualized"] is visualized


@pytest.mark.parametrize(("name", "index"), PROGRAM_FIELD)
def test_handwritten_program_formats_to_a_fixed_point_with_the_same_spec(name, index):
    text = program(name, index)
    canonical = format_source(text)
    assert format_source(canonical) == canonical
    assert extract_spec(canonical) == extract_spec(text)
    assert [d.severity for d in check(canonical)] == [d.severity for d in check(text)]


def test_the_prose_fields_are_not_programs():
    for name in (TRAIN, EVAL):
        for index, record in enumerate(records(name)):
            other = "input" if PROGRAM_FIELD[(name, index)] == "output" else "output"
            assert "let M =" not in record[other]


@pytest.mark.parametrize("index", range(50))
def test_daat_program_gets_exactly_one_clear_error(index):
    text = records(DAAT)[index]["output"]
    (diagnostic,) = check(text, "daat.nava")
    assert diagnostic.severity == "error"
    assert (diagnostic.line, diagnostic.col) == (1, 1)
    assert "DAAT/PDL timing-contract dialect" in diagnostic.message
    assert "not support" in diagnostic.message
    with pytest.raises(NavaError, match="DAAT/PDL"):
        extract_spec(text)
    with pytest.raises(NavaError, match="DAAT/PDL"):
        format_source(text)
