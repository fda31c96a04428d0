"""The params loader turns every bad value into one line naming file, line and field."""

import pytest
from pydantic import Field

from helpers import section_text
from nava_instruct.cli import main
from nava_instruct.errors import InputError
from nava_instruct.params import StageParams, load_section


class Demo(StageParams):
    seed: int = 0
    share: float = Field(0.5, ge=0, le=1)


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_reads_section_with_defaults(tmp_path):
    params = load_section(Demo, "demo", write(tmp_path, "other:\n  x: 1\ndemo:\n  seed: 7\n"))
    assert (params.seed, params.share) == (7, 0.5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("demo:\n  seed: 1\n  sede: 2\n", ":3: demo.sede: unknown key"),
        ("demo:\n  share: 2.0\n", ":2: demo.share: Input should be less than or equal to 1"),
        ("demo:\n  seed: abc\n", ":2: demo.seed: Input should be a valid integer"),
        ("other: {}\n", ": missing section 'demo'"),
        ("demo: [1,\n", "invalid YAML"),
    ],
)
def test_bad_params_name_file_line_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_section(Demo, "demo", path)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_cli_prints_one_line_and_exits_1(tmp_path, capsys):
    path = write(tmp_path, section_text("split", "  seed: 1\n  eval_fraktion: 0.3\n"))
    assert main(["split", "--params", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {path}:3: split.eval_fraktion: unknown key"
