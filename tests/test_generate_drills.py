"""Drills in stage generate: the share and the three kinds."""

import json
from collections import Counter

import pytest

from helpers import missing_numbers, stage_params
from nava_instruct.stages import generate as generate_stage
from nava_instruct.synth import drills, prompts


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
    mix = {"prompt_to_code": 1.0, "code_to_explanation": 0.0, "fix": 0.0, "edit": 0.0, "follow_up": 0.0}
    _, none = run(tmp_path / "none", size=42, drill_share=0.0, mix=mix)
    _, every = run(tmp_path / "all", size=42, drill_share=1.0, mix=mix)
    assert not any("drill" in row for row in none)
    assert Counter(row.get("drill") for row in every) == {kind: 14 for kind in drills.KINDS}


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
