"""The NAVA checker: evaluates a program statement by statement and reports what is wrong.

Names are resolved in order, each call's arguments are matched to its builtin's parameters and
type-checked, and the builtin (builtins.py) checks the values and builds the result. A value that
failed is None and is not reported on again, so one mistake gives one error. ``analyze`` returns
the diagnostics and the navigation fields built, from which spec.py reads the problems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nava_instruct.nava.builtins import BUILTINS, Param, suggest
from nava_instruct.nava.diagnostics import Diagnostic, NavaError, Severity
from nava_instruct.nava.syntax import Arg, Call, Let, List, Name, Number, Program, String, parse
from nava_instruct.nava.values import (
    TYPE_NAMES,
    Cost,
    Field,
    Lst,
    Manifold,
    Nothing,
    Num,
    Obstacle,
    Path,
    Str,
    Value,
    numbers,
)

EXPECTED = {
    "number": (Num,),
    "string": (Str,),
    "point": (Lst,),
    "location": (Num, Lst),
    "manifold": (Manifold,),
    "obstacles": (Lst,),
    "cost": (Cost,),
    "field": (Field,),
    "path": (Path,),
}
DESCRIBED = {"point": "a point [x, ...]", "location": "a point or an angle", "obstacles": "a list of obstacles"}


@dataclass
class Binding:
    value: Value | None
    let: Let
    used: bool = False


@dataclass
class Analysis:
    diagnostics: list[Diagnostic]
    fields: list[Field]


class Checker:
    def __init__(self, program: Program, filename: str):
        self.program, self.filename = program, filename
        self.diagnostics: list[Diagnostic] = []
        self.error_count = 0
        self.env: dict[str, Binding] = {}
        self.fields: list[Field] = []
        self.lets: dict[str, int] = {}  # name -> line of its first let: "used before let" vs "unknown"
        for statement in program.statements:
            if isinstance(statement, Let):
                self.lets.setdefault(statement.name, statement.line)

    def report(self, node, message: str, severity: Severity = "error") -> None:
        """Record a diagnostic at ``node``; returns None so that ``return checker.report(...)`` fails a value."""
        self.error_count += severity == "error"
        self.diagnostics.append(Diagnostic(self.filename, node.line, node.col, severity, message))

    def run(self) -> Analysis:
        for statement in self.program.statements:
            if isinstance(statement, Let):
                self.let(statement)
            else:
                value = self.call(statement)
                if value is not None and not isinstance(value, (Nothing, Field, Path)):
                    message = f"the value of {statement.func}(...) is discarded; bind it with let"
                    self.report(statement, message, "warning")
        for name, binding in self.env.items():
            # A bound path is the program's result, an unused field gets the warning below, and a
            # failed value has its error already.
            if not binding.used and binding.value is not None and not isinstance(binding.value, (Path, Field)):
                self.report(binding.let, f"'{name}' is bound but never used", "warning")
        for built in self.fields:
            if not built.computed:
                self.report(built.node, "this field is never passed to compute_optimal_path", "warning")
        if not any(_mentions(statement, "navigation_field") for statement in self.program.statements):
            self.diagnostics.append(
                Diagnostic(
                    self.filename, 1, 1, "error", "no navigation_field(...): a program must build a navigation field"
                )
            )
        unique = {  # a value used twice is reported once
            (diagnostic.line, diagnostic.col, diagnostic.severity, diagnostic.message): diagnostic
            for diagnostic in self.diagnostics
        }
        return Analysis(sorted(unique.values(), key=lambda diagnostic: (diagnostic.line, diagnostic.col)), self.fields)

    def let(self, statement: Let) -> None:
        if statement.name == "let":
            self.report(statement, "'let' is a keyword, not a name")
        value = self.eval(statement.value)
        if isinstance(value, Nothing):
            self.report(statement.value, f"{statement.value.func}(...) gives no value to bind")
            value = None
        if statement.name in self.env:
            self.report(statement, f"'{statement.name}' is already bound on line {self.env[statement.name].let.line}")
        else:
            self.env[statement.name] = Binding(value, statement)

    def eval(self, node) -> Value | None:
        if isinstance(node, Number):
            if not math.isfinite(node.value):
                return self.report(node, f"number {node.text} is out of range")
            return Num(node, node.value)
        if isinstance(node, String):
            return Str(node, node.value)
        if isinstance(node, List):
            items = [self.eval(item) for item in node.items]
            return None if None in items else Lst(node, items)
        if isinstance(node, Name):
            return self.lookup(node)
        return self.call(node)

    def lookup(self, node: Name) -> Value | None:
        binding = self.env.get(node.name)
        if binding is not None:
            binding.used = True
            return binding.value
        if node.name in self.lets:
            return self.report(node, f"'{node.name}' is used before its let on line {self.lets[node.name]}")
        if node.name in BUILTINS:
            return self.report(node, f"'{node.name}' is a builtin; call it: {node.name}(...)")
        return self.report(node, f"unknown name '{node.name}'{suggest(node.name, self.env)}")

    def call(self, node: Call) -> Value | None:
        builtin = BUILTINS.get(node.func)
        if builtin is None:
            for arg in node.args:
                self.eval(arg.value)
            return self.report(node, f"unknown builtin '{node.func}'{suggest(node.func, BUILTINS)}")
        args = self.bind(node, builtin.params)
        if args is None:
            return None
        value = builtin.build(self, node, args)
        if isinstance(value, Field):
            self.fields.append(value)
        return value

    def bind(self, node: Call, params: tuple[Param, ...]) -> dict[str, Value] | None:
        """Match arguments to parameters and check their types; None when anything is wrong."""
        errors_before = self.error_count
        by_name = {param.name: param for param in params}
        positional = [param for param in params if param.positional]
        given: dict[str, Value | None] = {}
        seen_named = False
        for arg in node.args:
            value = self.eval(arg.value)
            if arg.name is None:
                if seen_named:
                    self.report(arg, "positional argument after named arguments")
                    continue
                if len(given) >= len(positional):
                    if positional:
                        self.report(arg, f"{node.func}() takes at most {len(positional)} positional arguments")
                    else:
                        names = ", ".join(f"{param.name}:" for param in params) or "no arguments"
                        self.report(arg, f"{node.func}() takes named arguments only ({names})")
                    continue
                param = positional[len(given)]
            else:
                seen_named = True
                param = by_name.get(arg.name)
                if param is None:
                    self.report(arg, f"{node.func}() has no argument '{arg.name}'{suggest(arg.name, by_name)}")
                    continue
                if param.name in given:
                    self.report(arg, f"argument '{arg.name}' is given twice")
                    continue
            given[param.name] = value
            if value is not None:
                self.check_type(value, param, node, arg)
        for param in params:
            if param.required and param.name not in given:
                self.report(node, f"{node.func}() is missing argument '{param.name}'")
        if self.error_count > errors_before or None in given.values():
            return None
        return given

    def check_type(self, value: Value, param: Param, node: Call, arg: Arg) -> None:
        what = f"{node.func}({param.name}:)"
        if not isinstance(value, EXPECTED[param.type]):
            wanted = DESCRIBED.get(param.type) or TYPE_NAMES[EXPECTED[param.type][0]]
            self.report(arg.value, f"{what} expects {wanted}, got {TYPE_NAMES[type(value)]}")
        elif param.type in ("point", "location") and isinstance(value, Lst) and numbers(value) is None:
            self.report(value.node, f"{what} expects a list of numbers")
        elif param.type == "obstacles":
            for item in value.items:
                if not isinstance(item, Obstacle):
                    self.report(item.node, f"{what} expects obstacles, got {TYPE_NAMES[type(item)]}")


def _mentions(node, func: str) -> bool:
    if isinstance(node, Let):
        return _mentions(node.value, func)
    if isinstance(node, List):
        return any(_mentions(item, func) for item in node.items)
    if isinstance(node, Call):
        return node.func == func or any(_mentions(arg.value, func) for arg in node.args)
    return False


def analyze(source: str, filename: str = "<input>") -> Analysis:
    try:
        program = parse(source, filename)
    except NavaError as error:
        return Analysis(error.diagnostics, [])
    return Checker(program, filename).run()


def check(source: str, filename: str = "<input>") -> list[Diagnostic]:
    """All diagnostics of a program, sorted by position; a syntax error is one error diagnostic."""
    return analyze(source, filename).diagnostics
