"""Scoring answers: code graded by parse/check/spec match, explanations by the facts they state."""

import statistics

import pytest

from helpers import stage_params
from nava_instruct import nava
from nava_instruct.nava.scoring import score_code, score_explanation
from nava_instruct.reading.quantities import stated_numbers
from nava_instruct.stages import generate

PROGRAM = """let M = euclidean_plane()

let start = [0.0, 0.0]
let goal = [5.0, 5.0]

let obstacle = disc(center: [2.0, 2.0], radius: 1.0)

let field = navigation_field(
  manifold: M,
  start: start,
  goal: goal,
  obstacles: [obstacle],
  cost: geodesic_cost()
)

let path = compute_optimal_path(field)
visualize(path, field)
"""
SPEC = nava.extract_spec(PROGRAM)["problems"][0]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    generate.run(stage_params(generate, size=300, output_dir=str(out)))
    import json

    return [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "answer, expected",
    [
        (PROGRAM, (True, True, True)),
        ("Here you go:\n```nava\n" + PROGRAM + "```\nDone.", (True, True, True)),
        (PROGRAM.replace("[5.0, 5.0]", "[5.0, 4.0]"), (True, True, False)),
        (PROGRAM.replace("disc(", "disk("), (True, False, False)),
        (PROGRAM.replace("radius: 1.0)", "radius: 1.0"), (False, False, False)),
        ("I cannot help with that.", (False, False, False)),
    ],
)
def test_code_grades(answer, expected):
    grades = score_code(answer, SPEC)
    assert (grades["parsed"], grades["checked"], grades["spec_match"]) == expected


def test_every_generated_code_output_matches_its_own_spec(generated):
    code = [r for r in generated if r["family"] != "code_to_explanation"]
    assert code and all(score_code(r["output"], r["spec"])["spec_match"] for r in code)


def test_reference_explanations_state_every_fact(generated):
    explanations = [r for r in generated if r["family"] == "code_to_explanation"]
    scores = [score_explanation(r["output"], r["spec"]) for r in explanations]
    assert len(scores) > 50
    assert statistics.mean(s["fact_recall"] for s in scores) > 0.98
    assert not any(s["contains_code"] for s in scores)


def test_wrong_facts_and_code_are_caught():
    right = (
        "On the plane R^2 we go from (0, 0) to (5, 5) around one obstacle: a disc at (2, 2) of radius 1. "
        "The cost is geodesic."
    )
    assert score_explanation(right, SPEC)["fact_recall"] == 1.0
    wrong = "In 3D we go from (1, 1) to (7, 7); there are two obstacles. It minimises energy."
    scores = score_explanation(wrong, SPEC)
    assert scores["fact_recall"] < 0.3 and not scores["manifold"] and not scores["obstacle_count"]
    assert score_explanation(right + "\n\n" + PROGRAM, SPEC)["contains_code"]


def test_angles_in_pi_fractions_and_degrees():
    values = stated_numbers("from -5pi/6 to π/2, then 90 degrees, 45°")
    for expected in (-2.6179939, 1.5707963, 1.5707963, 0.7853982):
        assert any(abs(v - expected) < 1e-6 for v in values), expected
