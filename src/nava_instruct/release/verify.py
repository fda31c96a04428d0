"""``nava-instruct verify``: are the files in this checkout the ones ``dvc.lock`` and the signatures name?

Every output and input path recorded in ``dvc.lock`` is hashed afresh, the way DVC hashes them
(md5 of a file; for a folder, md5 of the sorted JSON list of its files' md5s, suffixed ``.dir``,
leaving out what ``.dvcignore`` hides),
without DVC's cache of earlier hashes, which trusts modification times. Recorded param values are
compared with the params file. Then every signature in ``release/signatures`` is checked against
the public key. Each row is OK, MISMATCH or MISSING; anything but OK makes the exit status 1.
A MISMATCH row says on its line what was expected and what was found: both md5s, the param keys
whose values differ, or, per file that differs from its signature, both sha256s.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pathspec
import yaml

from nava_instruct import layout
from nava_instruct.errors import InputError
from nava_instruct.fileio import write_json
from nava_instruct.layout import Paths
from nava_instruct.params import add_params_option
from nava_instruct.release import signing

log = logging.getLogger(__name__)

LOCK = "dvc.lock"


def md5_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def dvcignore(root: Path) -> pathspec.PathSpec:
    """The paths below ``root`` that its ``.dvcignore`` hides from DVC (gitignore syntax)."""
    file = root / ".dvcignore"
    return pathspec.PathSpec.from_lines(
        "gitwildmatch", file.read_text(encoding="utf-8").splitlines() if file.is_file() else []
    )


def dvc_md5(path: Path, root: Path = Path("."), ignore: pathspec.PathSpec | None = None) -> str | None:
    """DVC's md5 of ``path`` (a folder's ends in ``.dir``, files ``ignore`` matches left out), or None if it does
    not exist."""
    if path.is_file():
        return md5_file(path)
    if not path.is_dir():
        return None

    def kept(file: Path) -> bool:
        return file.is_file() and not (ignore and ignore.match_file(file.relative_to(root).as_posix()))

    entries = [
        {"md5": md5_file(file), "relpath": file.relative_to(path).as_posix()} for file in path.rglob("*") if kept(file)
    ]
    listing = json.dumps(sorted(entries, key=lambda entry: entry["relpath"]), sort_keys=True)
    return hashlib.md5(listing.encode("utf-8")).hexdigest() + ".dir"


def read_lock(path: str | Path) -> dict:
    """The stages of a dvc.lock, or an InputError naming the file (and line) that is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "not found: run `dvc repro` to create it") from None
    return parse_lock(text, path)


def parse_lock(text: str, origin: str | Path) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(
            origin, f"invalid YAML: {getattr(error, 'problem', error)}", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        raise InputError(origin, "not a dvc.lock: no 'stages' mapping", field="stages")
    for stage, body in data["stages"].items():
        for kind in ("deps", "outs"):
            for index, entry in enumerate(body.get(kind, [])):
                if not isinstance(entry, dict) or "path" not in entry or "md5" not in entry:
                    raise InputError(
                        origin, "each entry needs 'path' and 'md5'", field=f"stages.{stage}.{kind}[{index}]"
                    )
    return data["stages"]


def recorded(stages: dict, kind: str) -> dict[str, tuple[str, str]]:
    """path -> (md5, stage) for every ``kind`` ('deps' or 'outs') entry of the lock."""
    return {entry["path"]: (entry["md5"], stage) for stage, body in stages.items() for entry in body.get(kind, [])}


def compare(path: str, expected: str, root: Path, ignore: pathspec.PathSpec, check: str, stage: str) -> dict:
    actual = dvc_md5(root / path, root, ignore)
    status = "MISSING" if actual is None else "OK" if actual == expected else "MISMATCH"
    detail = f"expected md5 {expected} found {actual}" if status == "MISMATCH" else ""
    return {
        "check": check,
        "path": path,
        "stage": stage,
        "status": status,
        "expected": expected,
        "actual": actual,
        "detail": detail,
    }


def check_outputs(stages: dict, root: Path = Path(".")) -> list[dict]:
    ignore = dvcignore(root)
    return [
        compare(path, md5, root, ignore, "output", stage) for path, (md5, stage) in recorded(stages, "outs").items()
    ]


def lookup(data: dict, dotted: str):
    """The value at a dvc.yaml params key such as ``train`` or ``train.lr``; None if absent."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def param_differences(expected, actual, key: str = "") -> list[str]:
    """'key: expected X found Y' for each value (nested keys dotted) that differs between two param values."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [
            line
            for name in sorted(expected.keys() | actual.keys(), key=str)
            for line in param_differences(expected.get(name), actual.get(name), f"{key}.{name}" if key else str(name))
        ]
    if expected == actual:
        return []
    where = f"{key}: " if key else ""
    return [f"{where}expected {json.dumps(expected, sort_keys=True)} found {json.dumps(actual, sort_keys=True)}"]


def check_inputs(stages: dict, root: Path = Path(".")) -> list[dict]:
    """Dependencies no stage produces (code, locks, extra data) and the recorded param values."""
    outputs = recorded(stages, "outs")
    ignore = dvcignore(root)
    rows = [
        compare(path, md5, root, ignore, "input", stage)
        for path, (md5, stage) in recorded(stages, "deps").items()
        if path not in outputs
    ]
    files: dict[str, dict] = {}
    for stage, body in stages.items():
        for params_file, values in body.get("params", {}).items():
            if params_file not in files:
                try:
                    files[params_file] = yaml.safe_load((root / params_file).read_text(encoding="utf-8")) or {}
                except FileNotFoundError:
                    files[params_file] = {}
            for key, value in values.items():
                actual = lookup(files[params_file], key)
                status = "MISSING" if actual is None else "OK" if actual == value else "MISMATCH"
                rows.append(
                    {
                        "check": "param",
                        "path": f"{params_file}:{key}",
                        "stage": stage,
                        "status": status,
                        "expected": json.dumps(value, sort_keys=True)[:200],
                        "actual": json.dumps(actual, sort_keys=True)[:200],
                        "detail": "; ".join(param_differences(value, actual)) if status == "MISMATCH" else "",
                    }
                )
    return rows


def failed(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["status"] != "OK"]


def table(rows: list[dict]) -> str:
    width = max(len(row["path"]) for row in rows)
    return "\n".join(
        f"{row['status']:<8}  {row['check']:<9}  {row['path']:<{width}}  {row.get('detail', '')}".rstrip()
        for row in rows
    )


def run(lock: str, paths: Paths, signatures: bool = True, report: str | None = None) -> int:
    """Check ``lock``'s inputs and outputs, and the signatures of the artifacts ``paths`` names."""
    stages = read_lock(lock)
    root = Path(lock).parent
    rows = check_inputs(stages, root) + check_outputs(stages, root)
    if signatures:
        rows += signing.check(Path(paths.public_key), Path(paths.signatures), signing.signed_artifacts(paths))
    print(table(rows))
    bad = failed(rows)
    if report:
        write_json(report, {"lock": str(lock), "ok": not bad, "rows": rows})
    if bad:
        log.error(
            "%d of %d checks failed: %s", len(bad), len(rows), ", ".join(sorted({row["path"] for row in bad}))[:500]
        )
        return 1
    log.info("all %d checks OK", len(rows))
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--lock", default=LOCK, help="the lock to check against (default: %(default)s)")
    add_params_option(parser)
    parser.add_argument("--no-signatures", action="store_true", help="only compare the files with dvc.lock")
    parser.add_argument("--report", help="also write the result as JSON here")


def main(args) -> int:
    return run(args.lock, layout.paths(args.params), not args.no_signatures, args.report)
