"""``nava-instruct nava ...`` through ``nava_instruct.cli.main``, and once as a real process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nava_instruct.cli import main
from nava_instruct.nava import extract_spec, format_source, gbnf_grammar

VALID = """let M = euclidean_plane()
let start = [0.0, 0.0]
let goal = [5.0, 5.0]
let field = navigation_field(manifold: M, start: start, goal: goal)
let path = compute_optimal_path(field)
"""
SAME_PROBLEM = "compute_optimal_path(navigation_field(goal: [5, 5.0004], start: [0, 0], manifold: euclidean_plane()))\n"
INVALID = "let M = euclidean_plane()\nlet field = navigation_field(manifold: M, start: [0.0], goal: [5.0, 5.0])\n"
WARNING = VALID + "let unused = 1.0\n"


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_check_valid_files_exit_0_and_print_warnings(files, capsys):
    assert main(["nava", "check", files("a.nava", VALID), files("b.nava", WARNING)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"{Path(files('b.nava', WARNING))}:6:1: warning: 'unused' is bound but never used"]


def test_check_an_invalid_file_exits_1_with_file_line_col(files, capsys):
    path = files("bad.nava", INVALID)
    assert main(["nava", "check", files("a.nava", VALID), path]) == 1
    assert capsys.readouterr().out == f"{path}:2:50: error: start on R2 must have 2 coordinates, got 1\n"


def test_check_reads_stdin_as_dash(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(INVALID.encode())))
    assert main(["nava", "check", "-"]) == 1
    assert capsys.readouterr().out.startswith("<stdin>:2:50: error: ")


def test_check_stdin_that_is_not_utf8_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe let")))
    assert main(["nava", "check", "-"]) == 2
    assert capsys.readouterr().err == "<stdin>: error: not UTF-8 text (invalid start byte)\n"


def test_check_a_missing_file_is_one_line_and_exit_2(files, capsys, tmp_path):
    assert main(["nava", "check", files("a.nava", VALID), str(tmp_path / "nope.nava")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"{tmp_path / 'nope.nava'}: error: file not found\n"


def test_check_a_binary_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["nava", "check", str(path)]) == 2
    assert capsys.readouterr().err == f"{path}: error: not UTF-8 text (invalid start byte)\n"


def test_fmt_prints_the_canonical_form(files, capsys):
    assert main(["nava", "fmt", files("a.nava", SAME_PROBLEM)]) == 0
    assert capsys.readouterr().out == format_source(SAME_PROBLEM)


def test_fmt_check(files, capsys):
    canonical = format_source(VALID)
    assert main(["nava", "fmt", "--check", files("good.nava", canonical)]) == 0
    assert capsys.readouterr().out == ""
    path = files("messy.nava", SAME_PROBLEM)
    assert main(["nava", "fmt", "--check", path]) == 1
    assert capsys.readouterr().out == f"{path}: not in canonical form (run: nava-instruct nava fmt {path})\n"


def test_fmt_of_a_syntax_error_exits_1_with_the_diagnostic_on_stderr(files, capsys):
    path = files("broken.nava", "let x = (\n")
    assert main(["nava", "fmt", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"{path}:1:9: error: unexpected '('")


def test_fmt_of_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["nava", "fmt", str(tmp_path / "nope.nava")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.nava'}: error: file not found\n"


def test_spec_prints_sorted_indented_json(files, capsys):
    assert main(["nava", "spec", files("a.nava", VALID)]) == 0
    out = capsys.readouterr().out
    assert out == json.dumps(extract_spec(VALID), indent=2, sort_keys=True) + "\n"
    assert json.loads(out)["problems"][0]["goal"] == [5.0, 5.0]


def test_spec_of_an_invalid_program_exits_1(files, capsys):
    assert main(["nava", "spec", files("bad.nava", INVALID)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and ":2:50: error: " in captured.err


def test_equiv(files, capsys):
    assert main(["nava", "equiv", files("a.nava", VALID), files("b.nava", SAME_PROBLEM)]) == 0
    assert capsys.readouterr().out == ""
    other = files("c.nava", VALID.replace("[5.0, 5.0]", "[5.0, 4.0]"))
    assert main(["nava", "equiv", files("a.nava", VALID), other]) == 1
    assert capsys.readouterr().out == "problems[0].goal[1]: 5.0 != 4.0\n"
    assert main(["nava", "equiv", files("a.nava", VALID), files("bad.nava", INVALID)]) == 2


def test_grammar(capsys):
    assert main(["nava", "grammar", "--gbnf"]) == 0
    assert capsys.readouterr().out == gbnf_grammar()
    assert main(["nava", "grammar"]) == 0
    assert "start: (_NL | statement _NL)* statement?" in capsys.readouterr().out


@pytest.mark.slow
def test_the_installed_command_checks_stdin():
    command = Path(sys.executable).parent / "nava-instruct"
    ok = subprocess.run([command, "nava", "check", "-"], input=VALID, capture_output=True, text=True, timeout=60)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    daat = "program p⋋\n  -- a contract\nend program\n"
    bad = subprocess.run([command, "nava", "check", "-"], input=daat, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stdout.startswith("<stdin>:1:1: error: this is the DAAT/PDL timing-contract dialect")
    assert "Traceback" not in bad.stderr
