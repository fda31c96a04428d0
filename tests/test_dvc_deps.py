"""Every DVC stage lists, as deps, exactly the code its command runs: each module of the package it imports,
and the package data those modules read.

The import closure of ``nava-instruct <stage>`` is worked out statically (``ast``; nothing is imported,
since the stages load torch). The rule follows what running the command imports:

- from ``cli.py``, its module-level imports only (it imports the chosen command's module by name);
- plus the stage module, which ``stages.run_stage`` imports with ``importlib``, and its package
  ``stages``, which holds ``run_stage``;
- from every other module, all its imports of the package, at module level or inside functions,
  absolute or relative;
- importing a module imports its packages, so each ``__init__.py`` above it counts; ``from P import x``
  counts ``P.x`` when that is a module;
- a module that reads package data (``resources.files("P").joinpath("name")``) runs that file too.

A file is covered when dvc.yaml lists it, or a folder that holds it, among the stage's deps; a dep may
cover nothing else, or an edit there would rerun the stage for nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from helpers import PACKAGE, REPO, import_nodes, module_file, with_parents


def imported_modules(src: Path, name: str, inside_functions: bool) -> set[str]:
    """The modules of the package (the first part of ``name``) that module ``name`` imports, with their packages."""
    path = module_file(src, name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in import_nodes(ast.parse(path.read_text(encoding="utf-8")), inside_functions):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = package.rsplit(".", node.level - 1)[0] if node.level else ""
        module = ".".join(part for part in (base, node.module) if part)
        found.add(module)
        found.update(f"{module}.{alias.name}" for alias in node.names)  # kept below only where it is a module
    root = name.split(".")[0]
    return {
        parent
        for module in found
        if module.split(".")[0] == root
        for parent in with_parents(module)
        if module_file(src, parent)
    }


def stage_closure(src: Path, package: str, stage_module: str) -> set[str]:
    """The modules that ``<package>.cli`` (module level) and ``stage_module`` import, transitively, themselves
    and their packages included."""
    entry = f"{package}.cli"
    seen: set[str] = set()
    todo = [*with_parents(entry), *with_parents(stage_module)]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_modules(src, name, inside_functions=name != entry))
    return seen


def resources_read(src: Path, name: str) -> set[Path]:
    """The package data files module ``name`` reads as ``resources.files("P").joinpath("file")``."""
    found = set()
    for node in ast.walk(ast.parse(module_file(src, name).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
            opened = node.func.value
            if isinstance(opened, ast.Call) and isinstance(opened.func, ast.Attribute) and opened.func.attr == "files":
                package, file = opened.args[0].value, node.args[0].value
                found.add(src.joinpath(*package.split("."), file))
    return found


def stage_files(root: Path, src: Path, modules: set[str]) -> list[str]:
    """The files (relative to ``root``) that running ``modules`` reads: their sources and the data they open."""
    files = {module_file(src, name) for name in modules} | {
        path for name in modules for path in resources_read(src, name)
    }
    return sorted(path.relative_to(root).as_posix() for path in files)


def missing_deps(root: Path, src: Path, modules: set[str], deps: list[str]) -> list[str]:
    """The files run for ``modules`` that no dep names, by itself or by a folder above it."""
    folders = [dep.rstrip("/") for dep in deps]
    return [
        file
        for file in stage_files(root, src, modules)
        if not any(file == dep or file.startswith(f"{dep}/") for dep in folders)
    ]


def needless_deps(root: Path, src: Path, modules: set[str], deps: list[str]) -> list[str]:
    """The deps under ``src`` that name a file, or a folder holding a file, that running ``modules`` never reads."""
    run = set(stage_files(root, src, modules))
    needless = []
    for dep in deps:
        path = root / dep
        if not path.is_relative_to(src):
            continue
        covered = [path] if path.is_file() else [file for file in path.rglob("*") if file.is_file()]
        covered = [file for file in covered if "__pycache__" not in file.parts]
        if any(file.relative_to(root).as_posix() not in run for file in covered):
            needless.append(dep)
    return needless


def cli_stages() -> dict[str, dict]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {name: body for name, body in stages.items() if body["cmd"].split()[:2] == ["nava-instruct", name]}


def test_every_stage_runs_through_the_cli():
    assert set(cli_stages()) == {
        "generate",
        "split",
        "base",
        "train",
        "merge",
        "convert",
        "parity",
        "evaluate",
        "release",
    }


@pytest.mark.parametrize("stage", sorted(cli_stages()))
def test_stage_deps_list_every_module_it_imports(stage):
    body = cli_stages()[stage]
    modules = stage_closure(REPO / "src", PACKAGE, f"{PACKAGE}.stages.{stage}")
    missing = missing_deps(REPO, REPO / "src", modules, body["deps"])
    assert not missing, f"dvc.yaml stage '{stage}' misses deps: {', '.join(missing)}"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.parametrize("stage", sorted(cli_stages()))
def test_stage_deps_name_no_code_it_does_not_run(stage):
    """A module the stage does not run would only rerun it for nothing."""
    modules = stage_closure(REPO / "src", PACKAGE, f"{PACKAGE}.stages.{stage}")
    extra = needless_deps(REPO, REPO / "src", modules, cli_stages()[stage]["deps"])
    assert not extra, f"dvc.yaml stage '{stage}' names code it does not run: {', '.join(extra)}"


def test_closure_of_a_small_package(tmp_path):
    src = tmp_path / "src"
    write(
        src,
        {
            "pkg/__init__.py": "",
            "pkg/cli.py": "import os\nfrom pkg import util\n\ndef serve():\n    from pkg import server\n",
            "pkg/util.py": "from .errors import Oops\n",
            "pkg/errors.py": "class Oops(Exception):\n    pass\n",
            "pkg/server.py": "",
            "pkg/stage.py": (
                "import pkg.tools.deep\n\ndef run():\n    from . import lazy\n    from pkg.sub import part, CONSTANT\n"
            ),
            "pkg/tools/__init__.py": "",
            "pkg/tools/deep.py": "from ..sub.part import X\n",
            "pkg/lazy.py": "",
            "pkg/sub/__init__.py": "CONSTANT = 1\n",
            "pkg/sub/part.py": 'from importlib import resources\n\nX = resources.files("pkg.sub").joinpath("x.txt")\n',
            "pkg/sub/x.txt": "1",
            "pkg/unused.py": "",
        },
    )
    closure = stage_closure(src, "pkg", "pkg.stage")
    assert closure == {
        "pkg",
        "pkg.cli",
        "pkg.util",
        "pkg.errors",
        "pkg.stage",
        "pkg.tools",
        "pkg.tools.deep",
        "pkg.lazy",
        "pkg.sub",
        "pkg.sub.part",
    }

    deps = [
        "src/pkg/cli.py",
        "src/pkg/util.py",
        "src/pkg/stage.py",
        "src/pkg/sub/",
        "src/pkg/tools",
        "src/pkg/lazy.pyc",
    ]
    assert missing_deps(tmp_path, src, closure, deps) == ["src/pkg/__init__.py", "src/pkg/errors.py", "src/pkg/lazy.py"]
    assert "src/pkg/sub/x.txt" in missing_deps(tmp_path, src, closure, ["src/pkg/sub/part.py"])  # the data it reads
    assert needless_deps(tmp_path, src, closure, ["src/pkg/sub", "src/pkg/unused.py", "src/pkg", "params.yaml"]) == [
        "src/pkg/unused.py",
        "src/pkg",
    ]
