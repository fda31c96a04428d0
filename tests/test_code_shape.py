"""No function in ``src/`` is longer than ``MAX_LINES``: a longer one is split into steps with names.

Every function counts, methods and nested functions included, from its ``def`` line to its last line
(its docstring and comments too).
"""

from __future__ import annotations

import ast

from helpers import REPO

MAX_LINES = 60


def long_functions(source: str, name: str, limit: int = MAX_LINES) -> list[str]:
    """``name:line function (N lines)`` for each function of ``source`` over ``limit`` lines."""
    functions = [
        node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return [
        f"{name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in sorted(functions, key=lambda node: node.lineno)
        if node.end_lineno - node.lineno + 1 > limit
    ]


def test_no_function_in_src_is_over_the_limit():
    too_long = [
        found
        for path in sorted((REPO / "src").rglob("*.py"))
        for found in long_functions(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())
    ]
    assert not too_long, f"functions over {MAX_LINES} lines: " + "; ".join(too_long)


def body(lines: int) -> str:
    return "".join(f"    x{i} = {i}\n" for i in range(lines))


def test_long_functions_are_found_methods_and_nested_ones_too():
    source = (
        f"def short():\n{body(59)}"  # 60 lines with its def: at the limit
        f"def long():\n{body(60)}"
        f"class C:\n    def method(self):\n{body(61).replace('    ', '        ')}"
        f"def outer():\n    def inner():\n{body(61).replace('    ', '        ')}"
        f"async def waits():\n{body(70)}"
    )
    assert long_functions(source, "x.py") == [
        "x.py:61 long (61 lines)",
        "x.py:123 method (62 lines)",
        "x.py:185 outer (63 lines)",
        "x.py:186 inner (62 lines)",
        "x.py:248 waits (71 lines)",
    ]
