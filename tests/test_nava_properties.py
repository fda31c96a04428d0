"""Properties over generated programs (tests/nava_strategies.py): they check clean and mean what was
generated; formatting is idempotent and keeps spec and comments; mutations are reported on the
line that was changed."""

from __future__ import annotations

import difflib
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nava_instruct.nava import check, extract_spec, format_source
from nava_instruct.nava.builtins import BUILTINS
from nava_strategies import programs

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|(//[^\n]*)')


def comments(text: str) -> list[str]:
    return [match.group(1).rstrip() for match in COMMENT.finditer(text) if match.group(1)]


def errors_on(text: str) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in check(text) if d.severity == "error"]


@SETTINGS
@given(programs())
def test_generated_programs_check_clean_and_mean_what_was_generated(generated):
    assert check(generated.source) == []
    assert extract_spec(generated.source) == {"problems": [generated.problem]}


@SETTINGS
@given(programs())
def test_fmt_is_idempotent_keeps_the_spec_and_the_comments(generated):
    canonical = format_source(generated.source)
    assert format_source(canonical) == canonical
    assert extract_spec(canonical) == extract_spec(generated.source)
    assert check(canonical) == []
    assert sorted(comments(canonical)) == sorted(comments(generated.source))
    assert canonical.endswith("\n") and not canonical.endswith("\n\n")
    assert "\n\n\n" not in canonical and not canonical.startswith("\n")
    assert all(line == line.rstrip() for line in canonical.splitlines())
    code = re.sub(r'//.*|"(?:[^"\\\n]|\\.)*"', "", canonical)
    numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", code)
    assert numbers and all("." in number for number in numbers)


def field_lines(canonical: str) -> tuple[list[str], int]:
    lines = canonical.split("\n")
    return lines, next(i for i, line in enumerate(lines) if "navigation_field(" in line)


def point_line(lines: list[str], header: int, name: str) -> int:
    """Index of the line where the field's start/goal literal is written (inline or in its let)."""
    index = next(i for i in range(header, len(lines)) if lines[i].startswith(f"  {name}: "))
    value = lines[index].split(": ", 1)[1].split("  //")[0].rstrip(",")
    if re.fullmatch(r"\w+", value) and not re.fullmatch(r"-?\d.*", value):
        return next(i for i, line in enumerate(lines) if line.startswith(f"let {value} = "))
    return index


def set_literal(lines: list[str], index: int, new: str) -> None:
    """Write ``new`` as the point or angle on ``lines[index]`` (``  name: ...`` or ``let name = ...``),
    the whole literal when a long list is broken over lines."""
    prefix = re.match(r"  \w+: |let \w+ = ", lines[index]).group()
    end = index
    if lines[index].endswith("["):
        end = next(i for i in range(index, len(lines)) if lines[i].startswith("]"))
    comma = "," if lines[index].startswith("  ") and lines[index].split("  //")[0].endswith(",") else ""
    lines[index : end + 1] = [prefix + new + comma]


@SETTINGS
@given(programs(), st.sampled_from(["manifold", "start", "goal"]))
def test_a_deleted_required_argument_is_reported_at_the_call(generated, name):
    lines, header = field_lines(format_source(generated.source))
    del lines[next(i for i in range(header, len(lines)) if lines[i].startswith(f"  {name}: "))]
    (error,) = errors_on("\n".join(lines))
    assert error == (header + 1, f"navigation_field() is missing argument '{name}'")


@SETTINGS
@given(programs(), st.sampled_from(["start", "goal"]))
def test_a_point_of_the_wrong_dimension_is_reported_where_it_is_written(generated, name):
    lines, header = field_lines(format_source(generated.source))
    index = point_line(lines, header, name)
    kind = generated.problem["manifold"]["kind"]
    set_literal(lines, index, "[1.0, 1.0]" if kind == "S1" else "[1.0]")
    (error,) = errors_on("\n".join(lines))
    assert error[0] == index + 1
    assert ("must be an angle" if kind == "S1" else "must have") in error[1]


@SETTINGS
@given(programs(), st.data())
def test_a_misspelled_builtin_is_reported_with_did_you_mean(generated, data):
    canonical = format_source(generated.source)
    used = sorted({name for name in re.findall(r"(\w+)\(", canonical) if name in BUILTINS})
    name = data.draw(st.sampled_from(used))
    cut = data.draw(st.integers(1, len(name) - 1))
    misspelled = name[:cut] + name[cut - 1 :]  # one letter doubled
    assert difflib.get_close_matches(misspelled, list(BUILTINS), n=1) == [name]  # the test's own premise
    line = next(i for i, text in enumerate(canonical.split("\n")) if re.search(rf"\b{name}\(", text)) + 1
    mutated = re.sub(rf"\b{name}\(", f"{misspelled}(", canonical, count=1)
    assert (line, f"unknown builtin '{misspelled}'; did you mean '{name}'?") in errors_on(mutated)


def inside(obstacle: dict, kind: str) -> str:
    """A start written inside ``obstacle`` (for SE(n), the position inside, any angles)."""
    if obstacle["kind"] == "arc":
        return repr(obstacle["from"] + 0.05)
    if obstacle["kind"] in ("disc", "ball", "cap"):
        point = obstacle["center"]
    else:
        point = [(a + b) / 2 for a, b in zip(obstacle["min_corner"], obstacle["max_corner"])]
    point = point + [0.5] * {"SE2": 1, "SE3": 3}.get(kind, 0)
    return "[" + ", ".join(map(repr, point)) + "]"


@SETTINGS
@given(programs(min_obstacles=1), st.data())
def test_a_start_inside_an_obstacle_is_reported_where_it_is_written(generated, data):
    lines, header = field_lines(format_source(generated.source))
    index = point_line(lines, header, "start")
    obstacle = data.draw(st.sampled_from(generated.problem["obstacles"]))
    set_literal(lines, index, inside(obstacle, generated.problem["manifold"]["kind"]))
    found = errors_on("\n".join(lines))
    assert found and all(
        line == index + 1 and "start" in message and "lies inside" in message for line, message in found
    )
