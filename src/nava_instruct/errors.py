"""The two error types a stage raises; the CLI prints either as a single line.

``InputError`` is bad input the user can fix at a named file, line and field. ``RunError`` is a run
that failed for another reason (a machine that cannot do what was asked at this point, a tool that
crashed); its message says what happened and what to do.
"""


class InputError(Exception):
    """Bad input: a file, line and field are named so the user can fix it.

    ``str(error)`` is the whole one-line message, e.g. ``data/extra/mine.jsonl:3: output: missing`` or
    ``params.yaml:41: train.lr: Input should be greater than 0``.
    """

    def __init__(self, path: str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.detail = str(path), line, field, message
        where = self.path if line is None else f"{self.path}:{line}"
        what = message if field is None else f"{field}: {message}"
        super().__init__(f"{where}: {what}")


class RunError(Exception):
    """A run that failed for a reason other than bad input; ``str(error)`` is the one-line message."""
