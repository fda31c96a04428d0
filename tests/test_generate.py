"""Stage generate: deterministic, covering, self-consistent NAVA-Instruct data and its card."""

import itertools
import json
import math
import random
import re
from collections import Counter

import pytest
import yaml

from helpers import (
    NUMBER,
    REPO,
    mentioned_numbers,
    missing_numbers,
    section_text,
    spec_numbers,
    stage_params,
    write_params_file,
)
from nava_instruct import nava
from nava_instruct.cli import main
from nava_instruct.errors import InputError
from nava_instruct.nava import repair
from nava_instruct.nava.diagnostics import errors
from nava_instruct.nava.domain import MANIFOLD_NAMES
from nava_instruct.params import load_section
from nava_instruct.reading.quantities import NUMBER as PLAIN_NUMBER
from nava_instruct.reading.quantities import find
from nava_instruct.records import FAMILIES, HISTORY, LEVELS, example_id
from nava_instruct.stages import generate as generate_stage
from nava_instruct.stages.generate import Params, family_counts, run
from nava_instruct.synth import angles, budget, problems
from nava_instruct.synth.drills import KINDS

OUTPUTS = ("examples.jsonl", "dataset_card.json", "dataset_card.png")
BUILTINS = {
    "euclidean_plane",
    "euclidean_space",
    "circle",
    "sphere",
    "se2",
    "se3",
    "disc",
    "rectangle",
    "box",
    "arc",
    "cap",
    "geodesic_cost",
    "cost_function",
    "navigation_field",
    "compute_optimal_path",
    "visualize",
}


def generate(tmp_path, name="out", **overrides):
    params = stage_params(generate_stage, output_dir=str(tmp_path / name), **{"size": 400, "seed": 7, **overrides})
    result = run(params)
    rows = [json.loads(line) for line in (tmp_path / name / "examples.jsonl").read_text().splitlines()]
    return params, result, rows


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """One run at a modest size, shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("generate")
    params, result, rows = generate(tmp)
    card = json.loads((tmp / "out" / "dataset_card.json").read_text())
    return params, result, rows, card, tmp / "out"


@pytest.fixture(scope="module")
def explanations(tmp_path_factory):
    """At least 200 explanations per level."""
    tmp = tmp_path_factory.mktemp("explain")
    mix = {"prompt_to_code": 0.0, "code_to_explanation": 1.0, "fix": 0.0, "edit": 0.0, "follow_up": 0.0}
    _, _, rows = generate(tmp, size=1000, seed=11, mix=mix)
    return rows


def default_numbers(spec: dict) -> list[float]:
    """The values a request may leave to the language's defaults: radius 1.0, energy weight 1.0."""
    defaults = [spec["manifold"].get("radius")]
    if spec["cost"]["kind"] == "energy_optimal":
        defaults.append(spec["cost"]["energy_weight"])
    return [value for value in defaults if value == 1.0]


def test_number_reader_understands_the_forms_used():
    text = "from the origin to (2, -1.5), heading -3pi/4, yaw 90 deg, pitch 1.0472 rad, roll π/6, the unit circle"
    spec = {
        "manifold": {"kind": "S1", "radius": 1.0},
        "start": [0.0, 0.0],
        "goal": [2.0, -1.5, -2.3561945, 1.5707963, 1.0471976, 0.5235988],
        "obstacles": [],
        "cost": {"kind": "geodesic"},
    }
    assert missing_numbers(text, spec) == []
    assert missing_numbers(text.replace("-3pi/4", "3pi/4"), spec) == [-2.3561945]


# -- determinism, files, ids ------------------------------------------------------------------


def test_same_params_give_byte_identical_files(tmp_path):
    generate(tmp_path, "a", size=200)
    generate(tmp_path, "b", size=200)
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    generate(tmp_path, "c", size=200, seed=8)
    assert (tmp_path / "a" / OUTPUTS[0]).read_bytes() != (tmp_path / "c" / OUTPUTS[0]).read_bytes()


def test_outputs_are_written_atomically_and_returned(dataset):
    params, result, rows, card, out = dataset
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no temp files left behind
    assert result["examples"] == str(out / "examples.jsonl") and result["total"] == len(rows) == params.size
    assert result["counts"] == card["counts"]


def test_records_have_the_schema_and_unique_content_ids(dataset):
    _, _, rows, _, _ = dataset
    for row in rows:
        drill = {"drill"} if row["family"] == "prompt_to_code" and "drill" in row else set()
        history = {HISTORY} if row["family"] == "follow_up" else set()
        fields = {"id", "family", "manifold", "level", "spec", "instruction", "input", "output"}
        assert set(row) == fields | drill | history
        assert row["family"] in FAMILIES and row["manifold"] in MANIFOLD_NAMES and row["level"] in LEVELS
        assert row["id"] == example_id(row["instruction"], row["input"], row["output"], row.get(HISTORY))
        assert row["spec"]["manifold"]["kind"] == row["manifold"]
    assert len({row["id"] for row in rows}) == len(rows)


# -- coverage and mix -------------------------------------------------------------------------


def cost_variant(row) -> str:
    cost, code = row["spec"]["cost"], row["output"] if row["family"] != "code_to_explanation" else row["input"]
    if cost["kind"] == "time_optimal":
        return "time_optimal+acc" if cost["max_acceleration"] is not None else "time_optimal"
    if cost["kind"] == "energy_optimal":
        return "energy_optimal+weight" if "energy_weight" in code else "energy_optimal"
    return cost["kind"]


def test_every_family_manifold_level_cost_and_obstacle_count_appears(dataset):
    _, _, rows, _, _ = dataset
    assert {r["family"] for r in rows} == set(FAMILIES)
    assert {r["manifold"] for r in rows} == set(MANIFOLD_NAMES)
    assert {r["level"] for r in rows} == set(LEVELS)
    variants = {"geodesic", "weighted", "time_optimal", "time_optimal+acc", "energy_optimal", "energy_optimal+weight"}
    assert {cost_variant(r) for r in rows} == variants
    assert {len(r["spec"]["obstacles"]) for r in rows} == {0, 1, 2, 3}
    kinds = {(r["manifold"], o["kind"]) for r in rows for o in r["spec"]["obstacles"]}
    fits = {"R2": ("disc", "rectangle"), "SE2": ("disc", "rectangle"), "R3": ("ball", "box"), "SE3": ("ball", "box")}
    assert kinds == {(m, k) for m, ks in {**fits, "S1": ("arc",), "S2": ("cap",)}.items() for k in ks}
    weight_sets = {
        tuple(k for k, v in r["spec"]["cost"].items() if k != "kind" and v)
        for r in rows
        if r["spec"]["cost"]["kind"] == "weighted"
    }
    assert len(weight_sets) >= 8  # many subsets of the four weights
    outputs = {(r["spec"]["computed"], r["spec"]["visualized"]) for r in rows}
    assert outputs == {(True, True), (True, False), (False, False)}


def test_mix_shares_are_respected(dataset, tmp_path):
    params, _, rows, _, _ = dataset
    assert Counter(r["family"] for r in rows) == family_counts(params.size, params.mix)
    assert family_counts(400, stage_params(generate_stage).mix) == {
        "prompt_to_code": 228,
        "code_to_explanation": 76,
        "fix": 20,
        "edit": 40,
        "follow_up": 36,
    }
    mix = {"prompt_to_code": 0.1, "code_to_explanation": 0.2, "fix": 0.2, "edit": 0.3, "follow_up": 0.2}
    _, _, other = generate(tmp_path, size=200, mix=mix)
    assert Counter(r["family"] for r in other) == {
        "prompt_to_code": 20,
        "code_to_explanation": 40,
        "fix": 40,
        "edit": 60,
        "follow_up": 40,
    }
    thirds = {"prompt_to_code": 1 / 3, "code_to_explanation": 1 / 3, "fix": 1 / 3, "edit": 0.0, "follow_up": 0.0}
    assert family_counts(7, thirds) == {
        "prompt_to_code": 3,
        "code_to_explanation": 2,
        "fix": 2,
        "edit": 0,
        "follow_up": 0,
    }


def test_manifolds_and_levels_are_not_lopsided(dataset):
    _, _, rows, _, _ = dataset
    for key, names in (("manifold", MANIFOLD_NAMES), ("level", LEVELS)):
        counts = Counter(r[key] for r in rows)
        assert min(counts[name] for name in names) >= 0.4 * len(rows) / len(names), counts


# -- the toolkit's verdict on every program ---------------------------------------------------


def programs(row) -> list[tuple[str, bool]]:
    """(program, is the program the record's spec is about) for each program in a record."""
    if row["family"] == "code_to_explanation":
        return [(row["input"], True)]
    if row["family"] == "edit":
        return [(row["output"], True), (row["input"], False)]
    return [(row["output"], True)]


def test_every_program_checks_clean_is_canonical_and_matches_its_spec(dataset):
    _, _, rows, _, _ = dataset
    for row in rows:
        for program, described in programs(row):
            assert not [d for d in nava.check(program) if d.severity == "error"], (row["id"], program)
            assert nava.format_source(program) == program, row["id"]
            assert not set(re.findall(r"^let (\w+) =", program, re.M)) & BUILTINS, program  # no shadowed builtins
            problems = nava.extract_spec(program)["problems"]
            assert len(problems) == 1
            if described:
                assert nava.spec_difference({"problems": [row["spec"]]}, {"problems": problems}) is None, row["id"]


def test_s2_points_lie_on_the_sphere_and_angles_are_decimals(dataset):
    _, _, rows, _, _ = dataset
    for row in rows:
        spec = row["spec"]
        if spec["manifold"]["kind"] == "S2":
            r = spec["manifold"]["radius"]
            for point in [spec["start"], spec["goal"]] + [o["center"] for o in spec["obstacles"]]:
                assert abs(math.dist(point, (0, 0, 0)) - r) <= 1e-3 * r
        for program, _ in programs(row):
            code = "\n".join(line.split("//")[0] for line in program.splitlines())
            assert "pi" not in code.replace("compute_optimal_path", "")


def test_fix_inputs_fail_the_checker_and_the_instruction_quotes_it(dataset):
    _, _, rows, _, _ = dataset
    fixes = [r for r in rows if r["family"] == "fix"]
    assert fixes
    for row in fixes:
        errors = [d for d in nava.check(row["input"], "program.nava") if d.severity == "error"]
        assert errors, row["input"]
        assert errors[0].message in row["instruction"]
        assert row["input"] != row["output"]


DIAGNOSTIC_LINE = re.compile(r"^(program\.nava:\d+:\d+: error: |line \d+, column \d+: ).*$", re.M)


def code_numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(rf"(?<![\w.]){NUMBER}", line.split("//")[0])]


REPAIR_OPENING = repair.REQUEST_LINE.split("{")[0]
ASK_OPENING = "\n" + repair.REPAIR_ASK.split("{")[0]


@pytest.fixture(scope="module")
def fix_rows(tmp_path_factory):
    """Fix examples only, hinted and repair alike."""
    mix = {"prompt_to_code": 0.0, "code_to_explanation": 0.0, "fix": 1.0, "edit": 0.0, "follow_up": 0.0}
    _, _, rows = generate(tmp_path_factory.mktemp("fix"), size=600, seed=5, mix=mix)
    return rows


def is_repair(row: dict) -> bool:
    return row["instruction"].startswith(REPAIR_OPENING)


def fixed_numbers(row: dict) -> list[float]:
    """The numbers the fix puts into the program: those that differ, place by place, from the broken
    lines' (or the new ones, where the fix adds or removes numbers)."""
    broken = [line for line in row["input"].splitlines() if line not in row["output"].splitlines()]
    fixed = [line for line in row["output"].splitlines() if line not in row["input"].splitlines()]
    wanted = [x for line in fixed for x in code_numbers(line)]
    was = [x for line in broken for x in code_numbers(line)]
    if len(wanted) == len(was):
        return [x for x, y in zip(wanted, was) if x != y]
    return list((Counter(wanted) - Counter(was)).elements())


def test_fix_instructions_state_the_intended_values(fix_rows):
    shapes, checked = Counter(), 0
    for row in fix_rows:
        first = [d for d in nava.check(row["input"]) if d.severity == "error"][0].message
        shapes[re.sub(r"'[^']*'|\"[^\"]*\"|-?\d[\d.]*", "_", first)] += 1
        wanted = fixed_numbers(row)
        if wanted and not is_repair(row):
            checked += 1
            hint = DIAGNOSTIC_LINE.sub("", row["instruction"])
            found = mentioned_numbers(hint)
            assert all(any(abs(x - y) < 2e-3 for y in found) for x in wanted), (row["instruction"], row["input"])
    assert checked > 40
    assert len(shapes) >= 15, shapes  # many different defects


def test_repair_examples_give_the_checker_errors_and_no_fix(fix_rows):
    repairs = [row for row in fix_rows if is_repair(row)]
    assert 0.4 * len(fix_rows) < len(repairs) < 0.6 * len(fix_rows)
    hidden = 0
    for row in repairs:
        lines = repair.diagnostic_lines(errors(nava.check(row["input"])))
        request, opening, diagnostics = row["instruction"].removeprefix(REPAIR_OPENING).partition(ASK_OPENING)
        ask = opening + diagnostics
        assert row["instruction"] == repair.repair_instruction(request, lines)
        assert all(line in ask for line in lines)
        assert not errors(nava.check(row["output"])), row["output"]
        found = [float(x) for x in re.findall(r"-?\d+\.\d+", ask)]  # values; integers there are places and counts
        broken = [x for line in row["input"].splitlines() for x in code_numbers(line)]
        new = [x for x in fixed_numbers(row) if not any(abs(x - y) < 2e-3 for y in broken)]
        assert not any(abs(x - y) < 2e-3 for x in new for y in found), (row["instruction"], row["input"])
        hidden += bool(new)
    assert hidden > 20


def changed_numbers(before: dict, after: dict) -> list[float]:
    """Numbers an edit instruction must state: new points, added obstacles, how removed ones are named
    (unless all of them go), new cost values."""
    numbers = [
        x
        for role in ("start", "goal")
        if before[role] != after[role]
        for x in (after[role] if isinstance(after[role], list) else [after[role]])
    ]
    for obstacle in after["obstacles"]:
        if obstacle not in before["obstacles"]:
            numbers += spec_numbers({"manifold": {}, "start": [], "goal": [], "obstacles": [obstacle], "cost": {}})
    for obstacle in before["obstacles"]:
        if after["obstacles"] and obstacle not in after["obstacles"]:
            key = "center" if "center" in obstacle else "min_corner" if "min_corner" in obstacle else "from"
            numbers += obstacle[key] if isinstance(obstacle[key], list) else [obstacle[key]]
    old, new = before["cost"], after["cost"]
    numbers += [v for k, v in new.items() if k != "kind" and v and (old["kind"] != new["kind"] or old.get(k) != v)]
    return numbers


@pytest.fixture(scope="module")
def edit_rows(tmp_path_factory):
    """Edit examples only: a few hundred instructions."""
    mix = {"prompt_to_code": 0.0, "code_to_explanation": 0.0, "fix": 0.0, "edit": 1.0, "follow_up": 0.0}
    _, _, rows = generate(tmp_path_factory.mktemp("edit"), size=400, seed=3, mix=mix)
    return rows


def test_edits_change_the_program_and_state_every_new_value(edit_rows):
    removed_all = 0
    for row in edit_rows:
        before = nava.extract_spec(row["input"])["problems"][0]
        assert nava.spec_difference({"problems": [before]}, {"problems": [row["spec"]]}) is not None, row["id"]
        found = mentioned_numbers(row["instruction"])
        assert all(any(abs(x - y) < 2e-3 for y in found) for x in changed_numbers(before, row["spec"])), row[
            "instruction"
        ]
        removed_all += len(before["obstacles"]) > 1 and not row["spec"]["obstacles"]
    assert removed_all >= 5


DOUBLED_WORD = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


def test_edit_instructions_are_plain_varied_english(edit_rows):
    instructions = [row["instruction"] for row in edit_rows]
    for text in instructions:
        assert not DOUBLED_WORD.search(text), text  # "also also", "the the"
        assert not re.search(r"\b(can|could) you (don't|do not)\b", text, re.IGNORECASE), text
        assert text[0].isupper() and text[-1] in ".?", text
    masked = {re.sub(r"-?\d[\d.]*", "#", text) for text in instructions}
    openings = Counter(" ".join(text.split()[:2]) for text in instructions)
    assert len(masked) >= 0.8 * len(instructions) and len(openings) >= 25, openings.most_common(5)
    text = "\n".join(instructions)
    for phrase in ("Move the goal to", "Add a", "fastest path with top speed", "just compute"):
        assert phrase in text, phrase
    assert re.search(r"\b(remove|get rid of) (all )?the obstacles?\b", text, re.IGNORECASE)
    assert any(word in text for word in ("pillar", "lake", "building", "boulder", "crate")), "no world objects"


def test_the_doubled_word_check_catches_what_it_should():
    assert DOUBLED_WORD.search("Move it; also also avoid a ball") and DOUBLED_WORD.search("remove the The disc")
    assert not DOUBLED_WORD.search("a disc at (1, 1) of radius 1.5, and move the goal to (1,1)")


# -- angles ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prompt_rows():
    """A few hundred prompt_to_code records, templated and in users' words."""
    rng, params = random.Random(21), stage_params(generate_stage)
    return [generate_stage.prompt_to_code(rng, params) for _ in range(500)]


def spec_angles(spec: dict) -> list[float]:
    """Every angle of a spec: S^1 points, SE(2) headings, SE(3) roll, pitch and yaw, arc ends, cap angles."""
    manifold = spec["manifold"]["kind"]
    found = [spec["start"], spec["goal"]] if manifold == "S1" else []
    if manifold in ("SE2", "SE3"):
        found += [x for point in (spec["start"], spec["goal"]) for x in point[{"SE2": 2, "SE3": 3}[manifold] :]]
    keys = ("from", "to", "angle")
    return found + [obstacle[key] for obstacle in spec["obstacles"] for key in keys if key in obstacle]


def outside_angle_phrases(text: str) -> str:
    """``text`` without the angle phrases that ``find`` reads in it."""
    for quantity in reversed(find(text)):
        text = text[: quantity.start] + " " + text[quantity.end :]
    return text


def test_every_angle_of_a_program_is_written_in_its_request_or_read_there_by_the_reader(prompt_rows):
    kinds = Counter()
    for row in prompt_rows:
        read = [quantity.radians for quantity in find(row["instruction"])]
        written = [float(x) for x in PLAIN_NUMBER.findall(outside_angle_phrases(row["instruction"]))]
        for value in spec_angles(row["spec"]):
            kind = angles.kind_of(value)
            stated = written if kind == "radians" else read + written * (value == 0)  # a 0 may be stated bare
            assert any(abs(value - x) < 1e-6 for x in stated), (value, kind, row["instruction"])
            kinds[kind] += 1
    assert sum(kinds.values()) > 600 and min(kinds.values()) > 0.2 * sum(kinds.values()), kinds


def test_the_reader_reads_every_angle_phrase_in_degrees_or_pi(prompt_rows):
    left = re.compile(r"\d\s*(?:°|deg)|(?<![A-Za-z])(?:pi|π)(?![A-Za-z])")
    for row in prompt_rows:
        assert not left.search(outside_angle_phrases(row["instruction"])), row["instruction"]


def test_angles_leave_the_pi_over_12_grid(prompt_rows):
    values = [value for row in prompt_rows for value in spec_angles(row["spec"])]
    denominators = Counter(angles.pi_fraction(value).denominator for value in values if angles.kind_of(value) == "pi")
    assert set(denominators) == set(angles.DENOMINATORS), denominators
    degrees = {angles.whole_degrees(value) for value in values if angles.kind_of(value) == "degrees"}
    assert len(degrees) > 100 and not any(value % 15 == 0 for value in degrees)
    decimals = [value for value in values if angles.kind_of(value) == "radians"]
    assert {len(repr(abs(value))) for value in decimals} >= {3, 4}  # one decimal (0.3) and two (0.35)


def test_angle_notes_repeat_the_requests_words(prompt_rows):
    noted = 0
    for row in prompt_rows:
        for note in re.findall(r"^let .*  // (.*)$", row["output"], re.M):
            for phrase in [q.phrase for q in find(note)] + re.findall(rf"{NUMBER} rad", note):
                assert phrase in row["instruction"] or phrase.removesuffix(" rad") in row["instruction"], (note, row)
                noted += 1
    assert noted > 30


@pytest.mark.parametrize("manifold", ["S1", "S2"])
def test_arcs_and_caps_keep_clear_of_start_and_goal(manifold):
    rng = random.Random(5)
    for _ in range(300):
        problem = problems.sample_problem(rng, manifold, rng.randint(1, 3), "geodesic")
        for obstacle in problem.obstacles:
            if manifold == "S2":
                assert 0 < obstacle["angle"] < math.pi
            for point in (problem.start, problem.goal):
                assert problems.too_close(manifold, obstacle, point) is False
                if manifold == "S1":  # the toolkit's test: (point - from) mod 2pi <= (to - from) mod 2pi
                    span = (obstacle["to"] - obstacle["from"]) % math.tau
                    assert (point - obstacle["from"]) % math.tau > span + problems.ARC_MARGIN
                    assert (obstacle["from"] - point) % math.tau > problems.ARC_MARGIN
        if manifold == "S1":
            for first, second in itertools.combinations(problem.obstacles, 2):
                gap = (second["from"] - first["to"]) % math.tau, (first["from"] - second["to"]) % math.tau
                assert min(gap) > problems.ARC_GAP, problem.obstacles
        assert problems.valid(problem)


# -- instructions -----------------------------------------------------------------------------


def test_every_prompt_states_every_number_of_its_spec_but_defaults(dataset):
    _, _, rows, _, _ = dataset
    left_to_defaults = 0
    for row in rows:
        if row["family"] == "prompt_to_code":
            missing = missing_numbers(row["instruction"], row["spec"])
            assert len(missing) <= len(default_numbers(row["spec"])) and set(missing) <= {1.0}, row["instruction"]
            left_to_defaults += bool(missing)
    assert left_to_defaults >= 1  # few (about 1% of requests): a 1 often appears elsewhere in the request


COST_WORDS = {  # what names or describes each cost kind, in the templates' words or users'
    "geodesic": ("geodesic", "short"),
    "weighted": ("weight", "penalis", "penaliz"),
    "time_optimal": ("time-optimal", "time_optimal", "minimum-time", "fast", "speed", "time"),
    "energy_optimal": ("energy-optimal", "energy_optimal", "minimum-energy", "energy"),
}


def test_prompts_name_or_describe_the_cost_and_only_a_geodesic_goes_unsaid(dataset):
    _, _, rows, _, _ = dataset
    unsaid = 0
    for row in rows:
        if row["family"] == "prompt_to_code":
            text, kind = row["instruction"].lower(), row["spec"]["cost"]["kind"]
            said = any(word in text for words in COST_WORDS.values() for word in words)
            assert any(word in text for word in COST_WORDS[kind]) or (kind == "geodesic" and not said), text
            unsaid += not said
    assert unsaid > 5


def test_every_prompt_to_code_program_computes_the_path_and_ends_with_visualize_path_field(dataset):
    _, _, rows, _, _ = dataset
    for row in [r for r in rows if r["family"] == "prompt_to_code"]:
        assert row["spec"]["computed"] and row["spec"]["visualized"], row["id"]
        field = re.search(r"^let (\w+) = navigation_field\(", row["output"], re.M).group(1)
        path = re.search(rf"^let (\w+) = compute_optimal_path\((?:field: )?{field}\)$", row["output"], re.M).group(1)
        last = [line for line in row["output"].splitlines() if line.strip() and not line.startswith("//")][-1]
        assert last == f"visualize({path}, {field})", row["output"]


def test_prompts_are_phrased_in_many_ways(dataset):
    _, _, rows, _, _ = dataset
    prompts = [r["instruction"] for r in rows if r["family"] == "prompt_to_code"]
    masked = {re.sub(r"\d", "#", p) for p in prompts}
    openings = {" ".join(p.split()[:3]) for p in prompts}
    assert len(masked) >= 0.95 * len(prompts) and len(openings) >= 30
    text = "\n".join(prompts)
    for form in ("the origin", "pi/", "π/", "degrees", " rad", "R^2", "SE(2)", "x=", "(0,", "(0, "):
        assert form in text, form


def test_beginner_prompts_get_well_commented_code(dataset):
    params, _, rows, _, _ = dataset
    prompts = [r for r in rows if r["family"] == "prompt_to_code"]
    beginners = []
    for row in prompts:
        asks = "comment" in row["instruction"].lower() and "no comments" not in row["instruction"].lower()
        comment_lines = sum(line.lstrip().startswith("//") for line in row["output"].splitlines())
        assert asks == (comment_lines >= 4), (row["instruction"], row["output"])
        if asks:
            beginners.append(row)
    drill = params.drill_share / len(KINDS)  # beginner drills; the other drills never ask for comments
    expected = drill + (1 - params.drill_share) * params.beginner_share
    assert abs(len(beginners) / len(prompts) - expected) < 0.07
    assert Counter(r["level"] for r in beginners).most_common(1)[0][0] in ("gcse", "a_level")


def asks_for_comments(row: dict) -> bool:
    text = row["instruction"].lower()
    return row["family"] == "prompt_to_code" and "comment" in text and "no comments" not in text


def test_comment_requests_come_without_obstacles_at_least_as_often_as_others(dataset):
    _, _, rows, _, _ = dataset
    prompts = [row for row in rows if row["family"] == "prompt_to_code" and "drill" not in row]
    commented = [row for row in prompts if asks_for_comments(row)]
    share = {
        name: sum(not row["spec"]["obstacles"] for row in group) / len(group)
        for name, group in (("comments", commented), ("others", [row for row in prompts if row not in commented]))
    }
    # the token budget redraws the longest commented programs, those with most obstacles: more go without
    assert len(commented) > 30 and 0.6 * share["others"] <= share["comments"] <= 2.5 * share["others"], share


def test_beginner_comments_are_one_short_line_per_step_and_name_no_obstacle_that_is_not_there(dataset):
    _, _, rows, _, _ = dataset
    commented = [row for row in rows if asks_for_comments(row)]
    for row in commented:
        comments = [line.strip() for line in row["output"].splitlines() if line.lstrip().startswith("//")]
        assert len(comments) <= 8 and all(len(line) <= 45 for line in comments), comments
        if not row["spec"]["obstacles"]:
            mentions = [line for line in comments if re.search(r"obstacle|avoid|go around", line, re.I)]
            assert all(line.lower().startswith("// no obstacles") for line in mentions), mentions


def test_every_output_fits_the_token_budget(dataset, explanations, edit_rows):
    rows = dataset[2] + explanations + edit_rows
    over = [row["id"] for row in rows if budget.token_estimate(row["output"]) > budget.OUTPUT_TOKEN_BUDGET]
    assert not over, over[:5]
    assert budget.MAX_NEW_TOKENS == yaml.safe_load((REPO / "params.yaml").read_text())["evaluate"]["max_new_tokens"]


def test_the_token_estimate_bounds_smollm2s_count(dataset, explanations, tiny_smol_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_smol_model)
    ratios = [
        len(tokenizer(row["output"], add_special_tokens=False)["input_ids"]) / budget.token_estimate(row["output"])
        for row in dataset[2] + explanations
    ]
    assert 0.8 < min(ratios) and max(ratios) <= 1.03, (min(ratios), max(ratios))
    assert budget.OUTPUT_TOKEN_BUDGET * max(ratios) < budget.MAX_NEW_TOKENS - 10  # with room for the end token


# -- explanations -----------------------------------------------------------------------------

MANIFOLD_WORDS = {"R2": ("R^2",), "R3": ("R^3",), "S1": ("S^1",), "S2": ("S^2",), "SE2": ("SE(2)",), "SE3": ("SE(3)",)}
JARGON = (
    "riemannian",
    "geodesic",
    "manifold",
    "functional",
    "lie group",
    "configuration space",
    "metric",
    "optimal control",
)


def test_explanations_state_the_manifold_every_value_and_what_runs(explanations):
    for row in explanations:
        text, spec = row["output"], row["spec"]
        assert any(word in text for word in MANIFOLD_WORDS[row["manifold"]]), text
        assert missing_numbers(text, spec) == [], (text, spec)
        lower = text.lower()
        if not spec["computed"]:
            assert "no path is computed" in lower
        elif spec["visualized"]:
            assert "visualize" in lower
        else:
            assert "not" in lower and ("visualis" in lower or "drawn" in lower or "plot" in lower)


LEVEL_WORDS = {
    "a_level": ("vector", "geometr", "weight", "coordinate", "radians"),
    "undergrad": ("configuration space", "metric", "geodesic", "free space"),
    "phd": ("riemannian", "lie group", "optimal control", "functional", "integral", "∫"),
}


def test_explanation_vocabulary_fits_the_level(explanations):
    for row in explanations:
        prose = re.sub(r"`[^`]*`", "", row["output"]).lower()  # code in backticks may name anything
        if row["level"] == "gcse":
            assert not [word for word in JARGON if word in prose], prose
        else:
            assert any(word in prose for word in LEVEL_WORDS[row["level"]]), prose


@pytest.mark.parametrize("level", LEVELS)
def test_explanations_are_diverse_even_with_numbers_masked(explanations, level):
    texts = [r["output"] for r in explanations if r["level"] == level][:200]
    assert len(texts) == 200
    assert len(set(texts)) >= 0.9 * len(texts)
    assert len({re.sub(r"\d", "#", t) for t in texts}) >= 0.9 * len(texts)
    # No sentence is boilerplate: each (numbers masked) occurs in at most 40% of the texts.
    sentences = Counter(
        s
        for t in texts
        for s in {re.sub(r"\d", "#", s.strip("-0123456789. ")) for s in re.split(r"(?<=[.!?])\s+|\n+", t)}
        if s
    )
    assert sentences.most_common(1)[0][1] <= 0.4 * len(texts), sentences.most_common(3)


# -- card -------------------------------------------------------------------------------------


def test_card_counts_and_lengths_match_the_data(dataset):
    _, _, rows, card, out = dataset
    assert card["total"] == len(rows)
    for key, names in (("family", FAMILIES), ("manifold", MANIFOLD_NAMES), ("level", LEVELS), ("drill", KINDS)):
        counts = Counter(r.get(key) for r in rows)
        assert card["counts"][key] == {name: counts[name] for name in names}
    pairs = Counter((r["family"], r["manifold"]) for r in rows)
    assert all(card["counts"]["family_manifold"][f][m] == pairs[(f, m)] for f in FAMILIES for m in MANIFOLD_NAMES)
    assert set(card["output_length"]) == set(FAMILIES)
    for family, stats in card["output_length"].items():
        chars = sorted(len(r["output"]) for r in rows if r["family"] == family)
        words = sorted(len(r["output"].split()) for r in rows if r["family"] == family)
        assert (stats["chars"]["min"], stats["chars"]["max"], stats["words"]["max"]) == (chars[0], chars[-1], words[-1])
        assert stats["chars"]["p90"] == chars[math.ceil(0.9 * len(chars)) - 1]
        assert stats["words"]["median"] == (words[(len(words) - 1) // 2] + words[len(words) // 2]) / 2
        assert abs(stats["words"]["mean"] - sum(words) / len(words)) < 0.06
    png = (out / "dataset_card.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


# -- params and CLI ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ("  seed: 1\n  sise: 10\n", ":3: generate.sise: unknown key"),
        ("  size: -5\n", ":2: generate.size: Input should be greater than 0"),
        (
            "  mix:\n    prompt_to_code: 0.5\n    explain: 0.5\n",
            ":2: generate.mix: Value error, keys must be exactly",
        ),
        (
            "  mix:\n    prompt_to_code: 0.5\n    code_to_explanation: 0.5\n    fix: 0.5\n"
            "    edit: 0.0\n    follow_up: 0.0\n",
            "shares must sum to 1",
        ),
        (
            "  mix:\n    prompt_to_code: 1.5\n    code_to_explanation: -0.5\n    fix: 0.0\n"
            "    edit: 0.0\n    follow_up: 0.0\n",
            "shares must be >= 0",
        ),
        ("  beginner_share: 1.5\n", ":2: generate.beginner_share"),
        ("  drill_share: -0.1\n", ":2: generate.drill_share: Input should be greater than or equal to 0"),
        ("  drill_share: 1.2\n", ":2: generate.drill_share: Input should be less than or equal to 1"),
    ],
)
def test_bad_params_name_file_line_and_field(tmp_path, body, expected):
    path = tmp_path / "params.yaml"
    path.write_text(section_text("generate", body))
    with pytest.raises(InputError) as caught:
        load_section(Params, "generate", path)
    assert str(caught.value).startswith(str(path)) and expected in str(caught.value)


def test_cli_runs_the_stage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the CLI writes provenance/generate.json into the working directory
    path = write_params_file(tmp_path / "params.yaml", generate={"size": 40, "output_dir": str(tmp_path / "cli")})
    assert main(["generate", "--params", str(path)]) == 0
    assert len((tmp_path / "cli" / "examples.jsonl").read_text().splitlines()) == 40


def test_a_follow_up_changes_the_program_of_the_answer_before_it(dataset):
    _, _, rows, _, _ = dataset
    follow_ups = [row for row in rows if row["family"] == "follow_up"]
    assert len(follow_ups) >= 20
    for row in follow_ups:
        asked, answered = row["history"]
        assert (asked["role"], answered["role"]) == ("user", "assistant") and row["input"] == ""
        before = nava.extract_spec(answered["content"])["problems"][0]
        assert nava.spec_difference(before, row["spec"]) is not None, row["instruction"]
        assert before["visualized"] and before["computed"]  # the first answer is a prompt→code answer
        assert "program" not in row["instruction"].lower(), row["instruction"]  # the chat's next message
    assert {row["id"] for row in follow_ups}.isdisjoint(
        example_id(row["instruction"], row["input"], row["output"]) for row in follow_ups
    )  # the conversation is part of the id
