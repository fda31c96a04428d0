"""The canonical NAVA layout (docs/nava_language.md, "Canonical form").

Formatting only changes layout: it never reorders statements, arguments or list items and never
changes a value, so the spec cannot change. A statement's outermost call or list is either on
one line or broken into one item per line. Each comment is attached to the line it documents (a
statement, or an item of a broken call or list) and printed with it: own-line comments above, a
trailing comment after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES
from nava_instruct.nava.syntax import Arg, Call, Let, List, Name, Number, Program, String, parse

MAX_WIDTH = 80
INDENT = "  "
GROUPS = {  # blank lines separate statements of different groups; sphere(...) groups with the manifolds
    **dict.fromkeys((obstacle.builtin for obstacle in OBSTACLES.values()), "obstacles"),
    **dict.fromkeys((manifold.builtin for manifold in MANIFOLDS.values()), "manifold"),
    **dict.fromkeys(("geodesic_cost", "cost_function"), "cost"),
    "navigation_field": "field",
}


@dataclass
class _Notes:
    leading: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)

    def above(self) -> list[str]:
        """Comments printed above the line: own-line ones, then all trailing ones but the last."""
        return self.leading + self.trailing[:-1]

    def after(self) -> str:
        return f"  {self.trailing[-1]}" if self.trailing else ""


def number(value: float, text: str) -> str:
    """The shortest text that reads back as the same float, always with a decimal point."""
    if not math.isfinite(value):
        return text  # the checker rejects it; keep what was written
    shown = repr(value)
    if "." in shown:
        return shown
    mantissa, _, exponent = shown.partition("e")
    return f"{mantissa}.0" + (f"e{exponent}" if exponent else "")


def expression(node) -> str:
    if isinstance(node, Number):
        return number(node.value, node.text)
    if isinstance(node, String):
        return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Arg):
        return expression(node.value) if node.name is None else f"{node.name}: {expression(node.value)}"
    if isinstance(node, List):
        return "[" + ", ".join(map(expression, node.items)) + "]"
    return f"{node.func}(" + ", ".join(map(expression, node.args)) + ")"


def _value(statement: Let | Call):
    return statement.value if isinstance(statement, Let) else statement


def _items(node) -> tuple:
    """The items a statement's value can be broken into: a call's arguments or a list's items."""
    return node.args if isinstance(node, Call) else node.items if isinstance(node, List) else ()


def group(statement: Let | Call) -> str:
    value = _value(statement)
    if not isinstance(value, Call):
        return "values"
    if value.func == "sphere" and any(arg.name == "center" for arg in value.args):
        return "obstacles"
    return GROUPS.get(value.func, "path")


def _attach(program: Program) -> tuple[dict[tuple[str, int], _Notes], list[str]]:
    """Comments keyed by ("line", id) of a statement or item, or ("end", id) of a statement's value
    (own-line comments after its last item); plus the comments after the last statement."""
    notes: dict[tuple[str, int], _Notes] = {}
    tail: list[str] = []

    def note(role: str, node) -> _Notes:
        return notes.setdefault((role, id(node)), _Notes())

    for comment in program.comments:
        statement = next((statement for statement in program.statements if statement.end_line >= comment.line), None)
        if statement is None:
            tail.append(comment.text)
        elif statement.line > comment.line:  # between statements: it documents the next one
            note("line", statement).leading.append(comment.text)
        elif comment.own_line:  # inside a multi-line statement
            items = _items(_value(statement))
            item = next((item for item in items if item.end_line >= comment.line), None)  # around or after it
            if item:
                note("line", item).leading.append(comment.text)
            else:
                note("end", _value(statement)).leading.append(comment.text)
        else:
            before = [item for item in _items(_value(statement)) if item.line <= comment.line]
            after_last_item = not before or before[-1].end_line < comment.line
            if statement.line == statement.end_line or (comment.line == statement.end_line and after_last_item):
                note("line", statement).trailing.append(comment.text)
            elif before:
                note("line", before[-1]).trailing.append(comment.text)
            else:  # on the opening line of a multi-line statement, before its first item
                note("line", statement).leading.append(comment.text)
    return notes, tail


def _statement(statement: Let | Call, notes: dict[tuple[str, int], _Notes]) -> list[str]:
    head = f"let {statement.name} = " if isinstance(statement, Let) else ""
    value = _value(statement)
    items = _items(value)
    one_line = head + expression(value)
    commented = ("end", id(value)) in notes or any(("line", id(item)) in notes for item in items)
    func = value.func if isinstance(value, Call) else None
    long = items and (
        len(one_line) > MAX_WIDTH or func == "navigation_field" or (func == "cost_function" and len(items) > 1)
    )
    if not (commented or long):
        return [one_line]
    opening, closing = (f"{value.func}(", ")") if isinstance(value, Call) else ("[", "]")
    lines = [head + opening]
    for index, item in enumerate(items):
        item_notes = notes.get(("line", id(item)), _Notes())
        lines += [INDENT + text for text in item_notes.above()]
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"{INDENT}{expression(item)}{comma}{item_notes.after()}")
    lines += [INDENT + text for text in notes.get(("end", id(value)), _Notes()).above()]
    return lines + [closing]


def format_program(program: Program) -> str:
    notes, tail = _attach(program)
    lines: list[str] = []
    previous = None
    for statement in program.statements:
        own = notes.get(("line", id(statement)), _Notes())
        if previous is not None and (group(statement) != group(previous) or own.above()):
            lines.append("")
        lines += own.above()
        body = _statement(statement, notes)
        body[-1] += own.after()
        lines += body
        previous = statement
    if tail:
        lines += [""] * bool(lines) + tail
    return "\n".join(lines) + "\n" if lines else ""


def format_source(source: str, filename: str = "<input>") -> str:
    """The canonical text of a program; NavaError on a syntax error."""
    return format_program(parse(source, filename))
