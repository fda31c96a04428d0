"""``nava-instruct nava``: check, format, read the spec of, and compare NAVA programs.

Exit status: 0 success; 1 an invalid program, a file that is not canonical (``fmt --check``) or
two programs that are not equivalent (``equiv``); 2 a file that cannot be read, or an invalid
program given to ``equiv``. ``check`` prints its diagnostics on stdout; the other commands print
their result on stdout and diagnostics on stderr. ``-`` reads standard input (named ``<stdin>``).
"""

from __future__ import annotations

import json
import sys
from importlib import resources

from nava_instruct.nava.checker import check
from nava_instruct.nava.diagnostics import NavaError
from nava_instruct.nava.formatter import format_source
from nava_instruct.nava.gbnf import gbnf_grammar
from nava_instruct.nava.spec import extract_spec, spec_difference


class _Unreadable(Exception):
    pass


def _read(path: str) -> tuple[str, str]:
    """(display name, text) of a file, or of stdin for ``-``."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
        return name, data.decode("utf-8")
    except FileNotFoundError:
        raise _Unreadable(f"{name}: error: file not found") from None
    except IsADirectoryError:
        raise _Unreadable(f"{name}: error: is a directory") from None
    except UnicodeDecodeError as error:
        raise _Unreadable(f"{name}: error: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise _Unreadable(f"{name}: error: {error.strerror}") from None


def _print_diagnostics(error: NavaError) -> None:
    for diagnostic in error.diagnostics:
        print(diagnostic, file=sys.stderr)


def _check(args) -> int:
    status = 0
    for path in args.files:
        try:
            name, text = _read(path)
        except _Unreadable as error:
            print(error, file=sys.stderr)
            status = 2
            continue
        diagnostics = check(text, name)
        for diagnostic in diagnostics:
            print(diagnostic)
        if any(diagnostic.severity == "error" for diagnostic in diagnostics):
            status = max(status, 1)
    return status


def _fmt(args) -> int:
    name, text = _read(args.file)
    try:
        canonical = format_source(text, name)
    except NavaError as error:
        _print_diagnostics(error)
        return 1
    if args.check:
        if canonical != text:
            print(f"{name}: not in canonical form (run: nava-instruct nava fmt {args.file})")
            return 1
        return 0
    sys.stdout.write(canonical)
    return 0


def _spec(args) -> int:
    name, text = _read(args.file)
    try:
        spec = extract_spec(text, name)
    except NavaError as error:
        _print_diagnostics(error)
        return 1
    print(json.dumps(spec, indent=2, sort_keys=True))
    return 0


def _equiv(args) -> int:
    specs = []
    for path in (args.first, args.second):
        name, text = _read(path)
        try:
            specs.append(extract_spec(text, name))
        except NavaError as error:
            _print_diagnostics(error)
            return 2
    difference = spec_difference(specs[0], specs[1])
    if difference:
        print(difference)
        return 1
    return 0


def _grammar(args) -> int:
    if args.gbnf:
        sys.stdout.write(gbnf_grammar())
    else:
        sys.stdout.write(resources.files("nava_instruct.nava").joinpath("nava.lark").read_text(encoding="utf-8"))
    return 0


def _guarded(handler):
    def run(args) -> int:
        try:
            return handler(args)
        except _Unreadable as error:
            print(error, file=sys.stderr)
            return 2

    return run


def add_arguments(nava) -> None:
    """The subcommands of ``nava-instruct nava``."""
    nava.description = __doc__
    sub = nava.add_subparsers(dest="nava_command", required=True)

    checker = sub.add_parser("check", help="report errors and warnings; exit 1 if any file has an error")
    checker.add_argument("files", nargs="+", metavar="FILE", help="NAVA file, or - for stdin")
    checker.set_defaults(nava_handler=_check)

    fmt = sub.add_parser("fmt", help="print the canonical form")
    fmt.add_argument("file", metavar="FILE")
    fmt.add_argument("--check", action="store_true", help="print nothing; exit 1 if FILE is not canonical")
    fmt.set_defaults(nava_handler=_guarded(_fmt))

    spec = sub.add_parser("spec", help="print the spec (what the program means) as JSON")
    spec.add_argument("file", metavar="FILE")
    spec.set_defaults(nava_handler=_guarded(_spec))

    equiv = sub.add_parser("equiv", help="exit 0 if two programs have equal specs, else print the first difference")
    equiv.add_argument("first", metavar="A")
    equiv.add_argument("second", metavar="B")
    equiv.set_defaults(nava_handler=_guarded(_equiv))

    grammar = sub.add_parser("grammar", help="print the grammar (lark, or GBNF with --gbnf)")
    grammar.add_argument("--gbnf", action="store_true", help="print the GBNF grammar for llama.cpp")
    grammar.set_defaults(nava_handler=_grammar)


def main(args) -> int:
    return args.nava_handler(args)
