"""A GBNF grammar (llama.cpp's grammar format) generated from nava.lark, so the two cannot drift.

GBNF has no lexer, so the generator writes the lexer's work into the grammar. It walks the rules
lark compiled from nava.lark and
- puts whitespace between every two symbols: ``ws`` (blanks) at the top level, ``wsn`` (blanks,
  newlines and line comments) between brackets, where the postlexer makes newlines free; each rule
  used in both places gets a second, ``-in`` version;
- requires a blank after a keyword (``let x``, not ``letx``);
- writes the newline token as ``nl``: an optional line comment, then the newline;
- turns the left recursion lark uses for repetition into ``( ... )*``, which llama.cpp needs;
- translates each regular-expression terminal with Python's own regex parser.
Two differences remain: GBNF cannot exclude keywords from names, so it also accepts a statement
``let(...)``, which the parser rejects; and it does not limit bracket nesting as the parser does.
"""

from __future__ import annotations

import functools
from re import _constants as sre_constants  # the stdlib's regex parser: private, stable in 3.11
from re import _parser as sre_parser

from lark.grammar import NonTerminal, Terminal
from lark.lexer import PatternStr

from nava_instruct.nava.syntax import CLOSING, OPENING, lark_parser

_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: "0-9",
    sre_constants.CATEGORY_WORD: "a-zA-Z0-9_",
    sre_constants.CATEGORY_SPACE: " \\t\\n\\r\\x0B\\x0C",
}


def _escape(char: str, in_class: bool) -> str:
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}
    if char in special:
        return special[char]
    if in_class and char in "[]-^" or not char.isprintable() or not char.isascii():
        return f"\\x{ord(char):02X}" if ord(char) < 256 else f"\\u{ord(char):04X}"
    return char


def _literal(text: str) -> str:
    return '"' + "".join(_escape(char, False) for char in text) + '"'


def _char_class(items) -> str:
    parts = []
    for operator, value in items:
        if operator is sre_constants.NEGATE:
            parts.insert(0, "^")
        elif operator is sre_constants.LITERAL:
            parts.append(_escape(chr(value), True))
        elif operator is sre_constants.RANGE:
            parts.append(f"{_escape(chr(value[0]), True)}-{_escape(chr(value[1]), True)}")
        elif operator is sre_constants.CATEGORY and value in _CATEGORIES:
            parts.append(_CATEGORIES[value])
        else:
            raise ValueError(f"no GBNF for character class item {operator} {value}")
    return "[" + "".join(parts) + "]"


def _parts(items) -> list[tuple[str, bool]]:
    """GBNF for a parsed regular expression: (text, is_atom) per element; literal runs are merged."""
    parts: list[tuple[str, bool]] = []
    text = ""
    for operator, value in items:
        if operator is sre_constants.LITERAL:
            text += chr(value)
            continue
        if text:
            parts.append((_literal(text), True))
            text = ""
        if operator is sre_constants.IN:
            parts.append((_char_class(value), True))
        elif operator is sre_constants.NOT_LITERAL:
            parts.append((_char_class([(sre_constants.NEGATE, None), (sre_constants.LITERAL, value)]), True))
        elif operator is sre_constants.ANY:
            parts.append(("[^\\n]", True))
        elif operator is sre_constants.SUBPATTERN:
            parts.append((_group(value[-1]), True))
        elif operator is sre_constants.BRANCH:
            parts.append(("(" + " | ".join(_regex(branch) for branch in value[1]) + ")", True))
        elif operator in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, repeated = value
            suffix = {(0, sre_constants.MAXREPEAT): "*", (1, sre_constants.MAXREPEAT): "+", (0, 1): "?"}[(low, high)]
            parts.append((_group(repeated) + suffix, False))
        else:
            raise ValueError(f"no GBNF for regular expression operator {operator}")
    if text:
        parts.append((_literal(text), True))
    return parts


def _regex(items) -> str:
    return " ".join(text for text, _ in _parts(items))


def _group(items) -> str:
    """The expression as one atom, in parentheses unless it already is one."""
    parts = _parts(items)
    return parts[0][0] if len(parts) == 1 and parts[0][1] else f"({_regex(items)})"


class _Generator:
    def __init__(self):
        parser = lark_parser()
        self.expansions: dict[str, list[list]] = {}
        for rule in parser.rules:
            self.expansions.setdefault(rule.origin.name, []).append(rule.expansion)
        self.patterns = {terminal.name: terminal.pattern for terminal in parser.terminals}
        self.rules: dict[str, str] = {}

    def needs_context(self, name: str, seen: tuple[str, ...] = ()) -> bool:
        """Whether rule ``name`` puts whitespace outside brackets, directly or through its rules."""
        for expansion in self.expansions[name]:
            depth = 0
            for index, symbol in enumerate(expansion):
                if depth == 0 and index > 0:
                    return True
                if (
                    depth == 0
                    and isinstance(symbol, NonTerminal)
                    and (symbol.name in seen or self.needs_context(symbol.name, (*seen, name)))
                ):
                    return True
                depth += (symbol.name in OPENING) - (symbol.name in CLOSING)
        return False

    def rule(self, name: str, inside: bool) -> str:
        """The GBNF name of lark rule ``name`` in a context; emits the rule on first use."""
        inside = inside and self.needs_context(name)
        gbnf_name = name.strip("_").replace("_", "-") + ("-in" if inside else "")
        if gbnf_name not in self.rules:
            self.rules[gbnf_name] = ""  # reserve the name: rules may be recursive
            expansions = self.expansions[name]
            recursive = [expansion[1:] for expansion in expansions if expansion and expansion[0] == NonTerminal(name)]
            base = [expansion for expansion in expansions if expansion and expansion[0] != NonTerminal(name)]
            body = " | ".join(self.sequence(expansion, inside) for expansion in base)
            if recursive:
                tails = " | ".join(self.sequence(expansion, inside, after_symbol=True) for expansion in recursive)
                body = f"({body}) ({tails})*"
            if any(not expansion for expansion in expansions):
                body = f"({body})?"
            self.rules[gbnf_name] = body
        return gbnf_name

    def terminal(self, name: str) -> str:
        pattern = self.patterns[name]
        if isinstance(pattern, PatternStr):
            return _literal(pattern.value)
        gbnf_name = name.strip("_")
        self.rules.setdefault(gbnf_name, _regex(sre_parser.parse(pattern.value)))
        return gbnf_name

    def is_keyword(self, symbol) -> bool:
        pattern = self.patterns[symbol.name] if isinstance(symbol, Terminal) else None
        return isinstance(pattern, PatternStr) and pattern.value.isalnum()

    def sequence(self, symbols, inside: bool, after_symbol: bool = False) -> str:
        """GBNF for a run of symbols, with the whitespace the lexer skips between them."""
        parts, depth, previous = [], 0, None
        for symbol in symbols:
            in_brackets = inside or depth > 0
            if previous is not None or after_symbol:
                parts.append("wsn" if in_brackets else self.terminal("WS") if self.is_keyword(previous) else "ws")
            if isinstance(symbol, NonTerminal):
                parts.append(self.rule(symbol.name, in_brackets))
            elif symbol.name == "_NL":
                if in_brackets:
                    raise ValueError("nava.lark: a newline token between brackets can never be seen")
                parts.append("nl")
            else:
                parts.append(self.terminal(symbol.name))
            depth += (symbol.name in OPENING) - (symbol.name in CLOSING)
            previous = symbol
        return " ".join(parts)


@functools.cache
def gbnf_grammar() -> str:
    generator = _Generator()
    newline, comment, blank = (generator.terminal(name) for name in ("_NL", "COMMENT", "WS"))
    rules = {"root": f"ws {generator.rule('start', False)} ws {comment}?", **generator.rules}
    rules["nl"] = f"{comment}? {newline}"
    rules["ws"] = f"{blank}?"
    rules["wsn"] = f"(ws {comment}? {newline})* ws"
    lines = ["# NAVA core syntax as GBNF, generated from nava.lark (nava-instruct nava grammar --gbnf)."]
    lines += [f"{name} ::= {body}" for name, body in rules.items()]
    return "\n".join(lines) + "\n"
