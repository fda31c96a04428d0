"""The canonical layout, exactly: numbers, groups and blank lines, line breaking, comments."""

from __future__ import annotations

import pytest

from nava_instruct.nava import NavaError, extract_spec, format_source
from nava_instruct.nava.formatter import number

MESSY = """\
// header comment
let M=euclidean_plane( )   // the plane
let goal  = [ 5 , 5e0 ]
let start = [0,0]
let o1 = disc( radius: 1, center:[2,2] )
let c = cost_function(length_weight: 1,
   curvature_weight: 2,)  // smooth
let field = navigation_field(manifold: M, start: start,
  // the goal
  goal: goal, obstacles: [o1], cost: c)
let path = compute_optimal_path(field)
visualize(path, field)
// the end
"""

CANONICAL = """\
// header comment
let M = euclidean_plane()  // the plane

let goal = [5.0, 5.0]
let start = [0.0, 0.0]

let o1 = disc(radius: 1.0, center: [2.0, 2.0])

let c = cost_function(
  length_weight: 1.0,
  curvature_weight: 2.0  // smooth
)

let field = navigation_field(
  manifold: M,
  start: start,
  // the goal
  goal: goal,
  obstacles: [o1],
  cost: c
)

let path = compute_optimal_path(field)
visualize(path, field)

// the end
"""


def test_a_messy_program_gets_the_canonical_layout():
    assert format_source(MESSY) == CANONICAL
    assert format_source(CANONICAL) == CANONICAL
    assert extract_spec(CANONICAL) == extract_spec(MESSY)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("5", "5.0"),
        ("5.000", "5.0"),
        ("-4.1", "-4.1"),
        ("1e-3", "0.001"),
        ("1E3", "1000.0"),
        ("-0", "-0.0"),
        ("1e-5", "1.0e-05"),
        ("-25e-7", "-2.5e-06"),
        ("1e22", "1.0e+22"),
        ("1.5707963", "1.5707963"),
        ("0.1000000000000000055511151231257827", "0.1"),
        ("12345678901234567890", "1.2345678901234567e+19"),
    ],
)
def test_numbers_are_the_shortest_float_text_with_a_decimal_point(text, canonical):
    assert number(float(text), text) == canonical
    assert float(canonical) == float(text)
    assert format_source(f"let x = {text}\n") == f"let x = {canonical}\n"


def test_strings_keep_their_escapes():
    source = 'let s = "say \\"hi\\" \\\\ there"\n'
    assert format_source(source) == source


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("", ""),
        ("\n\n  \n", ""),
        ("// only\n\n\n// comments\n", "// only\n// comments\n"),
        ("let a = 1\n\n\nlet b = 2\n", "let a = 1.0\nlet b = 2.0\n"),  # same group: no blank line
        ("let a = 1\n// why b\nlet b = 2\n", "let a = 1.0\n\n// why b\nlet b = 2.0\n"),  # a comment opens a block
        (
            "let M = se2()\nlet p = [1, 2, 3]\nlet d = disc(center: [1, 1], radius: 1)\nlet c = geodesic_cost()\n"
            "let f = navigation_field(manifold: M, start: p, goal: p)\nlet q = compute_optimal_path(f)\nvisualize(q)\n",
            "let M = se2()\n\nlet p = [1.0, 2.0, 3.0]\n\nlet d = disc(center: [1.0, 1.0], radius: 1.0)\n\n"
            "let c = geodesic_cost()\n\nlet f = navigation_field(\n  manifold: M,\n  start: p,\n  goal: p\n)\n\n"
            "let q = compute_optimal_path(f)\nvisualize(q)\n",
        ),
        (
            "let b = sphere(center: [0, 0, 0], radius: 1)\nlet S = sphere(radius: 1)\n",
            "let b = sphere(center: [0.0, 0.0, 0.0], radius: 1.0)\n\nlet S = sphere(radius: 1.0)\n",
        ),
    ],
)
def test_blank_lines_separate_groups_and_commented_blocks(source, canonical):
    assert format_source(source) == canonical


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ('let c = cost_function(type: "energy_optimal")\n', 'let c = cost_function(type: "energy_optimal")\n'),
        (
            'let c = cost_function(type: "time_optimal", max_velocity: 2)\n',
            'let c = cost_function(\n  type: "time_optimal",\n  max_velocity: 2.0\n)\n',
        ),
        (
            "let r = rectangle(\n  min_corner: [3, 2],\n  max_corner: [5, 4],\n)\n",
            "let r = rectangle(min_corner: [3.0, 2.0], max_corner: [5.0, 4.0])\n",
        ),
        (
            "let os = [disc(center: [1, 1], radius: 0.5), disc(center: [3, 3], radius: 0.5), "
            "disc(center: [5, 5], radius: 1)]\n",
            "let os = [\n  disc(center: [1.0, 1.0], radius: 0.5),\n  disc(center: [3.0, 3.0], radius: 0.5),\n"
            "  disc(center: [5.0, 5.0], radius: 1.0)\n]\n",
        ),
        (
            "let f = navigation_field(manifold: euclidean_plane(), start: [0, 0], goal: [1, 1], "
            "obstacles: [disc(center: [5, 5], radius: 1), disc(center: [7, 7], radius: 1)])\n",
            "let f = navigation_field(\n  manifold: euclidean_plane(),\n  start: [0.0, 0.0],\n  goal: [1.0, 1.0],\n"
            "  obstacles: [disc(center: [5.0, 5.0], radius: 1.0), disc(center: [7.0, 7.0], radius: 1.0)]\n)\n",
        ),
        ("visualize(\n  compute_optimal_path(f)\n)\n", "visualize(compute_optimal_path(f))\n"),
    ],
)
def test_which_statements_are_broken_into_lines(source, canonical):
    assert format_source(source) == canonical


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        # A comment on a broken item stays with the item; one inside an item goes above it.
        (
            "let f = navigation_field(manifold: M, // the space\n start: s, goal: [1,\n // up\n 2])\n",
            "let f = navigation_field(\n  manifold: M,  // the space\n  start: s,\n  // up\n  goal: [1.0, 2.0]\n)\n",
        ),
        # Comments before the closing bracket stay before it.
        (
            "let f = navigation_field(manifold: M, start: s, goal: g\n  // more later\n)\n",
            "let f = navigation_field(\n  manifold: M,\n  start: s,\n  goal: g\n  // more later\n)\n",
        ),
        # A comment on the opening line goes above the statement; one after the closing bracket stays there.
        (
            "let d = disc( // obstacle\n center: [1, 1], radius: 1\n)  // done\n",
            "// obstacle\nlet d = disc(center: [1.0, 1.0], radius: 1.0)  // done\n",
        ),
        # A trailing comment belongs to the item that ends on its line.
        ("let p = [1, // x\n 2]  // y\n", "let p = [\n  1.0,  // x\n  2.0  // y\n]\n"),
        ("let v = [1,\n 2, // a\n 3 // b\n]\n", "let v = [\n  1.0,\n  2.0,  // a\n  3.0  // b\n]\n"),
        # Two trailing comments for one item: the first moves above it, so the order is kept.
        ("let n = g(a: [1, // a\n 2, // b\n 3])\n", "let n = g(\n  // a\n  a: [1.0, 2.0, 3.0]  // b\n)\n"),
        ("f() // c1\n", "f()  // c1\n"),
        ('let s = "// not a comment"  // a comment\n', 'let s = "// not a comment"  // a comment\n'),
        ("let x = 1 //no space\r\n", "let x = 1.0  //no space\n"),
    ],
)
def test_comments_stay_with_the_line_they_document(source, canonical):
    assert format_source(source) == canonical
    assert format_source(canonical) == canonical


def test_formatting_a_syntax_error_raises_with_the_diagnostic():
    with pytest.raises(NavaError, match=r"^f\.nava:1:9: error: unexpected"):
        format_source("let x = )\n", "f.nava")


def test_formatting_does_not_need_a_valid_program():
    assert format_source("let x = mystery(a: 1)\n") == "let x = mystery(a: 1.0)\n"
