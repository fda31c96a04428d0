"""Typed stage parameters, read from ``params.yaml`` and validated once, at the edge.

Each stage declares a pydantic model; ``load_section`` reads its section of the params file and
turns any problem (an unknown key, a wrong type, a value out of range) into one InputError that
names the file, the line and the dotted field.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from nava_instruct.errors import InputError

DEFAULT_PARAMS = "params.yaml"


def add_params_option(parser: argparse.ArgumentParser) -> None:
    """``--params``, for every command that reads the params file."""
    help = "params file; its paths section says where the artifacts are (default: %(default)s)"
    parser.add_argument("--params", default=DEFAULT_PARAMS, help=help)


class StageParams(BaseModel):
    """Base for every stage's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _origin: tuple[Path, str] | None = PrivateAttr(None)  # the params file and section it was read from

    def field_error(self, field: str, message: str) -> InputError:
        """A value that validated but that this run cannot use, reported where the params file sets it:
        ``params.yaml:LINE: train.method: message``."""
        if self._origin is None:
            return InputError("params", message, field=field)
        path, section = self._origin
        return InputError(path, message, line=key_line(path, (section, field)), field=f"{section}.{field}")


Params = TypeVar("Params", bound=StageParams)


def _key_lines(node: yaml.Node, prefix: tuple = ()) -> dict[tuple, int]:
    """Map each dotted key path in a composed YAML tree to its 1-based line number."""
    lines: dict[tuple, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*prefix, index)] = item.start_mark.line + 1
            lines.update(_key_lines(item, (*prefix, index)))
    return lines


def key_line(path: str | Path, key: tuple) -> int | None:
    """The line of a key path such as ``("numerics", "profile")`` in the YAML file at ``path``, if it is there."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return _key_lines(root).get(key) if root is not None else None


def load_section(model: type[Params], section: str, path: str | Path = DEFAULT_PARAMS) -> Params:
    """Read ``section`` of the YAML params file at ``path`` into ``model``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "params file not found") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        raise InputError(
            path, f"invalid YAML: {getattr(error, 'problem', error)}", line=None if line is None else line + 1
        ) from None
    if not isinstance(data, dict) or section not in data:
        raise InputError(path, f"missing section '{section}'")
    lines = _key_lines(root) if root is not None else {}
    try:
        params = model.model_validate(data[section] or {})
    except ValidationError as error:
        # An unknown key first: a misspelt key also leaves its intended field missing, and the typo is the news.
        first = next((e for e in error.errors() if e["type"] == "extra_forbidden"), error.errors()[0])
        location = (section, *first["loc"])
        # The deepest key that exists in the file carries the line (a missing key has none).
        line = next((lines[location[:n]] for n in range(len(location), 0, -1) if location[:n] in lines), None)
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise InputError(path, message, line=line, field=".".join(str(part) for part in location)) from None
    params._origin = (path, section)
    return params
