"""The one error type that a stage raises for bad input; the CLI prints it as a single line."""


class InputError(Exception):
    """Bad input: a file, line and field are named so the user can fix it.

    ``str(error)`` is the whole one-line message, e.g.
    ``data/extra/mine.jsonl:3: field 'output': missing``.
    """

    def __init__(self, path: str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.detail = str(path), line, field, message
        where = self.path if line is None else f"{self.path}:{line}"
        what = message if field is None else f"field '{field}': {message}"
        super().__init__(f"{where}: {what}")
