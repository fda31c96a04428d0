"""The angle reader: which phrases of a request it annotates with radians, and which it leaves alone."""

import math

import pytest

from nava_instruct.reading.quantities import annotate, find, radians_text, stated_numbers

PI = math.pi

READ = [
    ("heading 30°", "30°", PI / 6),
    ("turn 30 degrees left", "30 degrees", PI / 6),
    ("a yaw of 45 deg", "45 deg", PI / 4),
    ("a 45-degree heading", "45-degree", PI / 4),
    ("1 degree", "1 degree", PI / 180),
    ("12.5 degrees", "12.5 degrees", math.radians(12.5)),
    ("-90°", "-90°", -PI / 2),
    ("−30°", "−30°", -PI / 6),
    ("minus forty-five degrees", "minus forty-five degrees", -PI / 4),
    ("ninety degrees", "ninety degrees", PI / 2),
    ("a hundred and eighty degrees", "a hundred and eighty degrees", PI),
    ("two hundred seventy degrees", "two hundred seventy degrees", 1.5 * PI),
    ("yaw pi/3", "pi/3", PI / 3),
    ("yaw π/3", "π/3", PI / 3),
    ("yaw PI/3", "PI/3", PI / 3),
    ("theta = pi / 4", "pi / 4", PI / 4),
    ("3pi/4", "3pi/4", 0.75 * PI),
    ("3π/4", "3π/4", 0.75 * PI),
    ("2 * pi / 5", "2 * pi / 5", 0.4 * PI),
    ("(3/4)pi", "(3/4)pi", 0.75 * PI),
    ("3/4 π", "3/4 π", 0.75 * PI),
    ("1.5pi", "1.5pi", 1.5 * PI),
    ("-pi/6", "-pi/6", -PI / 6),
    ("minus pi over two", "minus pi over two", -PI / 2),
    ("angle pi", "pi", PI),
    ("2pi", "2pi", 2 * PI),
    ("pi/2 rad", "pi/2 rad", PI / 2),
    ("pi/2 radians", "pi/2 radians", PI / 2),
    ("a quarter turn", "a quarter turn", PI / 2),
    ("half a turn", "half a turn", PI),
    ("a three-quarter turn", "a three-quarter turn", 1.5 * PI),
    ("pose (1, 2, 90°)", "90°", PI / 2),
]

LEFT_ALONE = [
    "2 pillars",
    "a disc of radius 3 m",
    "3 metres to the left",
    "0.2 rad",
    "heading 1.2 radians",
    "an SE(3) robot has 6 degrees of freedom",
    "keep it under 30°C",
    "my Raspberry Pi robot",
    "the raspberry pi on board",
    "ask the PI first",
    "a pi-shaped corridor",
    "install it with pip, call the api",
    "spin around, a pinpoint",
    "a U-turn",
    "```\nlet heading = 1.5707963  // 90 degrees\n```",
]


@pytest.mark.parametrize(("text", "phrase", "radians"), READ)
def test_reads_the_angle(text, phrase, radians):
    (quantity,) = find(text)
    assert quantity.phrase == phrase
    assert quantity.radians == pytest.approx(radians, abs=1e-12)
    assert text[quantity.start : quantity.end] == phrase


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_leaves_alone(text):
    assert find(text) == []
    assert annotate(text) == text


def test_reads_both_ends_of_a_range_and_an_arrow():
    assert [q.phrase for q in find("track 11pi/10..255 deg, then pi->pi/2 and 30°->-45°")] == [
        "11pi/10", "255 deg", "pi", "pi/2", "30°", "-45°",
    ]  # fmt: skip
    assert stated_numbers("arcs 4.61..5.4 and 2.24 radians..3.4 radians, r=1.5") == [4.61, 5.4, 2.24, 3.4, 1.5]


def test_annotation_keeps_the_words_and_gives_seven_decimals():
    text = "from (0, 0) heading 30° to (4, 3) facing 3pi/4, avoid 2 pillars"
    assert annotate(text) == (
        "from (0, 0) heading 30° (= 0.5235988 rad) to (4, 3) facing 3pi/4 (= 2.3561945 rad), avoid 2 pillars"
    )


def test_annotating_twice_changes_nothing():
    once = annotate("yaw -pi/2 and roll 45 degrees, then a quarter turn")
    assert annotate(once) == once
    assert once.count("(= ") == 3


@pytest.mark.parametrize(
    ("value", "text"), [(PI / 6, "0.5235988"), (-PI / 2, "-1.5707963"), (0.0, "0.0"), (PI, "3.1415927")]
)
def test_radians_written_as_code_writes_angles(value, text):
    assert radians_text(value) == text
    assert radians_text(-0.0) == "0.0"
