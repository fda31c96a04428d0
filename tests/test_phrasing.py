"""Requests in users' words (synth.user_requests): world objects, costs in words, defaults, angles;
the angles the generator draws (synth.angles) and the exact words for them (synth.phrasing)."""

import math
import random
import re
from collections import Counter
from fractions import Fraction

import pytest

from helpers import stage_params
from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES
from nava_instruct.reading.quantities import find
from nava_instruct.stages import generate as generate_stage
from nava_instruct.synth import angles, prompts, user_banks
from nava_instruct.synth.phrasing import Phraser, exact_styles, exact_words, pi_form

NUMBER = r"-?\d+(?:\.\d+)?"


@pytest.fixture(scope="module")
def rows():
    """prompt_to_code records whose every instruction is in a user's words."""
    params = stage_params(generate_stage, beginner_share=0.0)
    rng = random.Random(3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prompts, "USER_SHARE", 1.0)
        return [generate_stage.prompt_to_code(rng, params) for _ in range(300)]


def code_numbers(program: str) -> list[float]:
    code = "\n".join(line.split("//")[0] for line in program.splitlines())
    return [float(x) for x in re.findall(rf"(?<![\w.]){NUMBER}", code)]


def found_words(text: str, words) -> set[str]:
    return {word for word in words if re.search(rf"\b{re.escape(word)}\b", text)}


def test_every_obstacle_kind_has_world_words_and_a_kind_fits_some_manifold():
    assert set(user_banks.WORLD_OBJECTS) == set(OBSTACLES) == set(user_banks.KIND_NAMES)
    assert {kind for space in MANIFOLDS.values() for kind in space.obstacles} == set(OBSTACLES)


def test_world_objects_map_to_the_obstacle_kind_of_the_manifold(rows):
    world_words = {word for words in user_banks.WORLD_OBJECTS.values() for word in words}
    pairs = set()
    for row in rows:
        kinds = {obstacle["kind"] for obstacle in row["spec"]["obstacles"]}
        for word in found_words(row["instruction"], world_words):
            assert any(word in user_banks.WORLD_OBJECTS[kind] for kind in kinds), (word, row["instruction"])
            if len(kinds) == 1:
                pairs.add((word, *kinds))
    for pair in (("pillar", "disc"), ("boulder", "disc"), ("boulder", "ball"), ("lake", "cap"), ("building", "box")):
        assert pair in pairs, pair


def test_a_request_that_names_no_cost_gets_the_geodesic_program(rows):
    cues = ("short", "fast", "speed", "time", "energy", "effort", "penalis", "penaliz", "weight")
    unsaid = [row for row in rows if not any(cue in row["instruction"].lower() for cue in cues)]
    assert len(unsaid) > 15
    for row in unsaid:
        assert row["spec"]["cost"] == {"kind": "geodesic"}, row["instruction"]
        assert "cost_function" not in row["output"], row["output"]


def test_costs_in_words_give_their_kind_and_values(rows):
    kinds = Counter()
    for row in rows:
        text, cost = row["instruction"], row["spec"]["cost"]
        speed = re.search(rf"(?:top speed|vmax|speed limit of|faster than) ({NUMBER})", text)
        if speed:
            assert cost["kind"] == "time_optimal" and cost["max_velocity"] == float(speed.group(1)), text
            kinds["time_optimal"] += 1
        if re.search(r"little energy|energy as|min energy|least energy|minimise energy", text):
            assert cost["kind"] == "energy_optimal", text
            if "weight" not in text:
                assert cost["energy_weight"] == 1.0, text  # left to the default
                kinds["energy_default"] += 1
        if "shortest" in text:
            assert cost["kind"] == "geodesic", text
            kinds["geodesic"] += 1
        if re.search(r"penali[sz]e|weighted cost|weights ", text):
            assert cost["kind"] == "weighted", text
            kinds["weighted"] += 1
    assert min(kinds[kind] for kind in ("time_optimal", "energy_default", "geodesic", "weighted")) >= 5, kinds


def test_angles_in_degrees_and_pi_fractions_become_seven_decimal_radians_and_radians_are_copied(rows):
    forms = Counter()
    for row in rows:
        numbers = code_numbers(row["output"])
        for quantity in find(row["instruction"]):
            radians = round(quantity.radians, 7)
            assert any(abs(x - radians) < 1e-9 for x in numbers), (quantity.phrase, row["output"])
            forms["pi" if re.search("pi|π", quantity.phrase) else "degrees"] += 1
        for value in re.findall(rf"({NUMBER}) rad", row["instruction"]):
            assert float(value) in numbers, (value, row["output"])  # at the precision written
            forms["radians"] += 1
    assert min(forms.values()) >= 10 and len(forms) == 3, forms


@pytest.mark.parametrize(
    ("value", "words", "pi_words"),
    [
        (angles.of_degrees(37), "37 degrees", None),
        (angles.of_degrees(-120), "-2pi/3", "-2π/3"),
        (angles.of_pi_fraction(Fraction(3, 5)), "3pi/5", "3π/5"),
        (angles.of_pi_fraction(Fraction(2, 9)), "2pi/9", "2π/9"),
        (angles.of_pi_fraction(Fraction(-3, 8)), "-3pi/8", "-3π/8"),
        (angles.of_pi_fraction(Fraction(1)), "pi", "π"),
        (0.0, "0", "0"),
        (0.35, "0.35 rad", None),
        (-2.05, "-2.05 rad", None),
    ],
)
def test_exact_words_for_each_kind(value, words, pi_words):
    assert exact_words(value) == words
    if pi_words:
        assert pi_form(value, "π") == pi_words
    else:
        with pytest.raises(ValueError):
            pi_form(value)


def test_an_angle_is_only_stated_in_the_forms_that_give_it_exactly():
    assert exact_styles(angles.of_degrees(37)) == ("degrees", "deg")
    assert exact_styles(angles.of_pi_fraction(Fraction(3, 8))) == ("pi", "π")  # 67.5 degrees
    assert exact_styles(angles.of_degrees(36)) == ("pi", "π", "degrees", "deg")  # pi/5
    assert exact_styles(1.2) == ("rad",)
    with pytest.raises(ValueError):
        exact_styles(1.0471976 + 1e-4)  # a rounded decimal of pi/3 is no angle the generator draws


def test_no_decimal_in_radians_is_also_a_degree_or_pi_angle():
    assert all(angles.kind_of(hundredths / 100) == "radians" for hundredths in range(-700, 701) if hundredths)
    assert all(angles.kind_of(angles.of_degrees(degrees)) != "radians" for degrees in range(-360, 361))


@pytest.mark.parametrize("kind", angles.KINDS)
def test_angles_of_each_kind_are_drawn_in_range(kind):
    rng = random.Random(4)
    for low, high in ((-165, 180), (10, 60), (67.3, 127.3)):
        for _ in range(300):
            value = angles.draw(rng, low, high, kind)
            assert math.radians(low) - 1e-7 <= value <= math.radians(high) + 1e-7
            if kind == "degrees":
                assert angles.whole_degrees(value) is not None
            elif kind == "pi":
                assert angles.pi_fraction(value).denominator in angles.DENOMINATORS
            else:
                assert round(value, 2) == value and (value == 0 or angles.kind_of(value) == "radians")


def test_a_phraser_says_an_angle_the_same_way_each_time_and_may_drop_the_unit_of_radians():
    phraser = Phraser(random.Random(1))
    first = phraser.angle(angles.of_degrees(37))
    assert all(phraser.angle(angles.of_degrees(37)) == first for _ in range(20))
    assert first in ("37 degrees", "37°", "37 deg") and phraser.angle_words == {angles.of_degrees(37): first}
    said = {phraser.angle(0.35, unit_optional=True) for _ in range(40)}
    assert said == {"0.35", phraser.angle_words[0.35]} and phraser.angle_words[0.35] in ("0.35 rad", "0.35 radians")


def test_a_circle_or_sphere_without_a_radius_has_radius_one(rows):
    unsaid = 0
    for row in rows:
        manifold = row["spec"]["manifold"]
        if manifold["kind"] in ("S1", "S2"):
            stated = re.search(rf"(?<!angular )(?:radius|r=) ?(?:of )?({NUMBER})", row["instruction"])
            assert manifold["radius"] == (float(stated.group(1)) if stated else 1.0), row["instruction"]
            unsaid += not stated
    assert unsaid >= 5


def test_a_request_that_names_no_obstacle_gets_an_empty_list(rows):
    words = {word for bank in (user_banks.WORLD_OBJECTS, user_banks.KIND_NAMES) for ws in bank.values() for word in ws}
    free = [row for row in rows if not found_words(row["instruction"], words)]
    assert len(free) > 15
    for row in free:
        assert row["spec"]["obstacles"] == [], row["instruction"]


def test_requests_are_terse_casual_or_chatty_and_often_silent_about_plotting(rows):
    texts = [row["instruction"] for row in rows]
    terse = [text for text in texts if "->" in text or text.startswith(user_banks.TERSE_PREFIXES[1:])]
    chatty = [text for text in texts if text.startswith(user_banks.GREETINGS)]
    plot_words = ("plot", "show", "draw", "visualis", "visualiz")
    silent = [text for text in texts if not any(word in text.lower() for word in plot_words)]
    assert min(len(terse), len(chatty), len(silent)) > 0.15 * len(texts)
    assert all(row["output"].rstrip().splitlines()[-1].startswith("visualize(") for row in rows)
