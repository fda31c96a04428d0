"""NAVA syntax: the AST, the lark LALR parser that builds it, and the comments beside it.

``parse(source)`` returns a ``Program`` or raises ``NavaError`` with exactly one diagnostic. The
lexer drops comments, so ``Program.comments`` comes from a separate string-aware scan; the
formatter puts them back. Text in the DAAT/PDL dialect gets one dedicated error.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from lark import Lark, Token, Transformer, UnexpectedInput

from nava_instruct.nava.diagnostics import Diagnostic, NavaError

OPENING = {"LPAR": "RPAR", "LSQB": "RSQB"}  # bracket token types; newlines inside are free
CLOSING = set(OPENING.values())
MAX_NESTING = 100  # deeper brackets are an error, not a RecursionError in the checker


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    text: str
    line: int
    col: int

    @property
    def end_line(self) -> int:
        return self.line


@dataclass(frozen=True, slots=True)
class String:
    value: str
    line: int
    col: int

    @property
    def end_line(self) -> int:
        return self.line


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    line: int
    col: int

    @property
    def end_line(self) -> int:
        return self.line


@dataclass(frozen=True, slots=True)
class List:
    items: tuple[Expr, ...]
    line: int
    col: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Arg:
    name: str | None  # None for a positional argument
    value: Expr
    line: int
    col: int

    @property
    def end_line(self) -> int:
        return self.value.end_line


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Arg, ...]
    line: int
    col: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    value: Expr
    line: int
    col: int

    @property
    def end_line(self) -> int:
        return self.value.end_line


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    line: int
    col: int
    own_line: bool  # nothing but blanks before it on its line


@dataclass(frozen=True, slots=True)
class Program:
    statements: tuple[Let | Call, ...]
    comments: tuple[Comment, ...]


Expr = Number | String | Name | List | Call


class _ToAst(Transformer):
    def start(self, children):
        return tuple(children)

    def let(self, children):
        keyword, name, value = children
        return Let(str(name), value, keyword.line, keyword.column)

    def number(self, children):
        (token,) = children
        return Number(float(token), str(token), token.line, token.column)

    def string(self, children):
        (token,) = children
        return String(re.sub(r"\\(.)", r"\1", token[1:-1]), token.line, token.column)

    def name(self, children):
        (token,) = children
        return Name(str(token), token.line, token.column)

    def list(self, children):
        opening, *items, closing = children
        return List(tuple(item for item in items if item is not None), opening.line, opening.column, closing.line)

    def call(self, children):
        func, _, *args, closing = children
        return Call(str(func), tuple(arg for arg in args if arg is not None), func.line, func.column, closing.line)

    def arg(self, children):
        if len(children) == 1:
            value = children[0]
            return Arg(None, value, value.line, value.col)
        name, value = children
        return Arg(str(name), value, name.line, name.column)


class _SyntaxProblem(Exception):
    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


class _Brackets:
    """Postlexer: drop newlines inside brackets and report unbalanced brackets by position."""

    always_accept = ("_NL",)

    def process(self, stream):
        open_brackets: list[Token] = []
        for token in stream:
            if token.type in OPENING:
                open_brackets.append(token)
                if len(open_brackets) > MAX_NESTING:
                    raise _SyntaxProblem(token.line, token.column, f"brackets nested more than {MAX_NESTING} deep")
            elif token.type in CLOSING:
                if not open_brackets or OPENING[open_brackets[-1].type] != token.type:
                    message = f"unmatched '{token}'"
                    if open_brackets:
                        last = open_brackets[-1]
                        message += f"; the '{last}' at {last.line}:{last.column} is still open"
                    raise _SyntaxProblem(token.line, token.column, message)
                open_brackets.pop()
            elif token.type == "_NL" and open_brackets:
                continue
            yield token
        if open_brackets:
            token = open_brackets[-1]
            raise _SyntaxProblem(token.line, token.column, f"'{token}' is never closed")


@functools.cache
def lark_parser() -> Lark:
    grammar = resources.files("nava_instruct.nava").joinpath("nava.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_Brackets(), transformer=_ToAst())


_COMMENT_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*')
_DAAT_MARKERS = re.compile(r"^[ \t]*(?:program[ \t]+\w|end[ \t]+program\b|--)|⋋", re.MULTILINE)
_VALUE_TOKENS = {"IDENT": "name", "NUMBER": "number", "STRING": "string"}
_DESCRIBE = {
    "IDENT": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "LET": "'let'",
    "_NL": "end of line",
    "$END": "end of line",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "EQUAL": "'='",
    "COMMA": "','",
    "COLON": "':'",
}


def _comments(source: str) -> tuple[Comment, ...]:
    found = []
    for match in _COMMENT_SCAN.finditer(source):
        if match.group().startswith("//"):
            line_start = source.rfind("\n", 0, match.start()) + 1
            own_line = not source[line_start : match.start()].strip()
            line = source.count("\n", 0, match.start()) + 1
            found.append(Comment(match.group().rstrip(), line, match.start() - line_start + 1, own_line))
    return tuple(found)


def _position(source: str, offset: int) -> tuple[int, int]:
    return source.count("\n", 0, offset) + 1, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _describe_found(error: UnexpectedInput) -> str:
    token = getattr(error, "token", None)
    if token is None:
        return "end of file"
    if token.type in _VALUE_TOKENS:
        return f"{_VALUE_TOKENS[token.type]} {token}"
    return _DESCRIBE.get(token.type, repr(str(token)))


def _syntax_message(error: UnexpectedInput | _SyntaxProblem, source: str) -> tuple[int, int, str]:
    if isinstance(error, _SyntaxProblem):
        return error.line, error.col, error.message
    if hasattr(error, "char"):  # UnexpectedCharacters
        if error.char == '"':
            return error.line, error.column, "unterminated string"
        if source.startswith("--", error.pos_in_stream):
            return error.line, error.column, "'--' does not start a comment in NAVA; comments start with //"
        return error.line, error.column, f"unexpected character {error.char!r}"
    expected = sorted({_DESCRIBE.get(name, name) for name in (error.accepts or error.expected)})
    message = f"unexpected {_describe_found(error)}"
    if expected:
        message += f"; expected {' or '.join(expected)}"
    line, col = getattr(error, "line", -1), getattr(error, "column", -1)
    if line is None or line < 1:
        line, col = _position(source, len(source))
    return line, col, message


@functools.lru_cache(maxsize=128)  # check, format_source and extract_spec often see the same text in a row
def parse(source: str, filename: str = "<input>") -> Program:
    source = source.removeprefix("\ufeff")
    try:
        statements = lark_parser().parse(source)
    except (UnexpectedInput, _SyntaxProblem) as error:
        marker = _DAAT_MARKERS.search(source)
        if marker:
            line, col = _position(source, marker.start() + len(marker.group()) - len(marker.group().lstrip()))
            message = (
                "this is the DAAT/PDL timing-contract dialect (`program … end program`), "
                "which core NAVA does not support"
            )
        else:
            line, col, message = _syntax_message(error, source)
        raise NavaError([Diagnostic(filename, line, col, "error", message)]) from None
    return Program(statements, _comments(source))
