"""JSONL reading names the file, line and field of bad input; writes are atomic."""

import os

import pytest

from nava_instruct.errors import InputError
from nava_instruct.fileio import atomic_path, read_jsonl, write_jsonl

FIELDS = ("instruction", "input", "output")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ": empty file: no records"),
        ("\n\n", ": empty file: no records"),
        ('{"instruction": "a", "input": "", "output": "b"}\n{"instruction": "a",\n', ":2: malformed JSON"),
        ('["a"]\n', ":1: expected a JSON object"),
        ('{"instruction": "a", "output": "b"}\n', ":1: input: missing"),
        ('{"instruction": "a", "input": 3, "output": "b"}\n', ":1: input: expected a string, got int"),
    ],
)
def test_bad_jsonl(tmp_path, text, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_jsonl(path, required=FIELDS)
    assert str(caught.value).startswith(str(path)) and expected in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_jsonl(tmp_path / "absent.jsonl")


def test_roundtrip_keeps_line_numbers_and_key_order(tmp_path):
    path = tmp_path / "ok.jsonl"
    rows = [{"instruction": "i", "input": "", "output": "o"}, {"instruction": "j", "input": "x", "output": "p"}]
    write_jsonl(path, rows)
    assert path.read_text().splitlines()[0] == '{"instruction": "i", "input": "", "output": "o"}'
    assert read_jsonl(path, required=FIELDS) == [(1, rows[0]), (2, rows[1])]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_written_files_get_the_usual_permissions(tmp_path):
    write_jsonl(tmp_path / "out.jsonl", [{"a": 1}])
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.jsonl").stat().st_mode & 0o777 == 0o666 & ~umask
