"""Drills in stage generate: the share, the four kinds, and every multiple of pi/12 in both wordings."""

import json
import re
from collections import Counter

import pytest

from helpers import missing_numbers, stage_params
from nava_instruct.stages import generate as generate_stage
from nava_instruct.synth import drills, prompts
from nava_instruct.synth.problems import twelfths

DEGREES = re.compile(r"(-?\d+)\s*(?:degrees|°)")
PI = re.compile(r"(?<![A-Za-z])(-?)(\d*)(?:pi|π)(?:/(\d+))?(?![A-Za-z])")
RADIANS = re.compile(r"\d\s*(?:rad|radians)\b")


def run(tmp_path, **overrides) -> tuple:
    params = stage_params(generate_stage, output_dir=str(tmp_path), **overrides)
    generate_stage.run(params)
    rows = [json.loads(line) for line in (tmp_path / "examples.jsonl").read_text().splitlines()]
    return params, rows


@pytest.fixture(scope="module")
def default_rows(tmp_path_factory):
    """The default profile of params.yaml (size, seed, mix, shares)."""
    return run(tmp_path_factory.mktemp("drills"))


def of_kind(rows: list[dict], kind: str) -> list[dict]:
    return [row for row in rows if row.get("drill") == kind]


def test_drills_are_the_drill_share_of_prompt_to_code_in_round_robin(default_rows):
    params, rows = default_rows
    prompts_ = [row for row in rows if row["family"] == "prompt_to_code"]
    found = Counter(row["drill"] for row in rows if "drill" in row)
    assert all(row["family"] == "prompt_to_code" for row in rows if "drill" in row)
    assert sum(found.values()) == round(len(prompts_) * params.drill_share) > 400
    assert set(found) == set(drills.KINDS) and max(found.values()) - min(found.values()) <= 1, found


def test_no_drills_at_share_zero_and_all_at_one(tmp_path):
    mix = {"prompt_to_code": 1.0, "code_to_explanation": 0.0, "fix": 0.0, "edit": 0.0}
    _, none = run(tmp_path / "none", size=40, drill_share=0.0, mix=mix)
    _, every = run(tmp_path / "all", size=40, drill_share=1.0, mix=mix)
    assert not any("drill" in row for row in none)
    assert Counter(row.get("drill") for row in every) == {kind: 10 for kind in drills.KINDS}


def angle_wording(text: str) -> str:
    """``degrees`` or ``pi``: a drill states all its angles one way (a zero alone reads ``0`` as a pi-fraction)."""
    assert not RADIANS.search(text), text
    wordings = {"degrees"} if DEGREES.search(text) else set()
    wordings |= {"pi"} if PI.search(text) else set()
    assert len(wordings) <= 1, text
    return wordings.pop() if wordings else "pi"


def pi_twelfths(sign: str, numerator: str, denominator: str) -> int:
    return (-1 if sign else 1) * int(numerator or 1) * 12 // int(denominator or 1)


def spec_angles(spec: dict) -> list[float]:
    manifold = spec["manifold"]["kind"]
    if manifold == "S1":
        return [spec["start"], spec["goal"]] + [o[key] for o in spec["obstacles"] for key in ("from", "to")]
    first = 2 if manifold == "SE2" else 3
    return spec["start"][first:] + spec["goal"][first:]


def test_angle_drills_state_every_multiple_of_pi_over_12_in_degrees_and_in_pi_fractions(default_rows):
    _, rows = default_rows
    covered = {"degrees": set(), "pi": set()}
    for row in of_kind(rows, "angles"):
        text, wording = row["instruction"], angle_wording(row["instruction"])
        assert row["manifold"] in ("S1", "SE2", "SE3")
        assert missing_numbers(text, row["spec"]) in ([], [1.0]), text  # a unit radius may go unsaid
        if wording == "degrees":
            covered["degrees"] |= {int(value) // 15 % 24 for value in DEGREES.findall(text)}
        else:
            covered["pi"] |= {pi_twelfths(*match) % 24 for match in PI.findall(text)}
            if any(twelfths(value) == 0 for value in spec_angles(row["spec"])):  # stated as a bare 0
                covered["pi"].add(0)
    assert covered == {"degrees": set(range(24)), "pi": set(range(24))}


def test_angle_wording_is_fixed_and_otherwise_free():
    assert drills.angle_styles(None) is None
    assert drills.angle_styles(drills.Drill("poses", 0)) is None
    assert drills.angle_styles(drills.Drill("angles", 23)) == ("degrees", "deg")
    assert drills.angle_styles(drills.Drill("angles", 24)) == ("pi", "π")
    assert [drills.signed(step, "SE2") for step in (0, 12, 13, 23)] == [0, 12, -11, -1]
    assert drills.signed(23, "S1") == 23


def test_three_obstacle_drills_have_three_obstacles_all_stated(default_rows):
    _, rows = default_rows
    found = of_kind(rows, "three_obstacles")
    assert found and {row["manifold"] for row in found} >= {"R2", "R3", "S1", "S2", "SE2", "SE3"}
    for row in found:
        assert len(row["spec"]["obstacles"]) == 3, row["id"]
        assert missing_numbers(row["instruction"], row["spec"]) in ([], [1.0]), row["instruction"]


def test_pose_drills_are_se2_and_se3_in_halves_with_full_poses(default_rows):
    _, rows = default_rows
    found = of_kind(rows, "poses")
    counts = Counter(row["manifold"] for row in found)
    assert set(counts) == {"SE2", "SE3"} and abs(counts["SE2"] - counts["SE3"]) <= 1, counts
    for row in found:
        size = {"SE2": 3, "SE3": 6}[row["manifold"]]
        spec = row["spec"]
        assert len(spec["start"]) == len(spec["goal"]) == size and spec["obstacles"], row["id"]
        assert missing_numbers(row["instruction"], spec) in ([], [1.0]), row["instruction"]


def test_beginner_drills_ask_for_comments_and_get_them(default_rows):
    _, rows = default_rows
    found = of_kind(rows, "beginner")
    assert found
    for row in found:
        assert any(ask in row["instruction"] for ask in prompts._BEGINNER), row["instruction"]
        comments = [line for line in row["output"].splitlines() if line.lstrip().startswith("//")]
        assert len(comments) >= 4, row["output"]
