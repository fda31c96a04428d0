"""No module of the package is part of an import cycle.

Imports are read statically (``ast``), at module level and inside functions alike: a function-level
import only postpones a cycle to the call that closes it. A module depends on what it names: ``import
a.b`` and ``from a import b`` (a module) on ``a.b``, ``from a import x`` (a name) on ``a``, and each on
the packages above it that import runs, except its own: a module's packages are already loading when
it runs, which is no cycle unless it takes a name from one of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import PACKAGE, REPO, import_nodes, module_file, with_parents


def package_modules(src: Path, package: str) -> list[str]:
    files = sorted((src / package).rglob("*.py"))
    return [".".join(file.relative_to(src).with_suffix("").parts).removesuffix(".__init__") for file in files]


def dependencies(src: Path, name: str) -> set[str]:
    """The modules of the package (the first part of ``name``) that module ``name`` needs loaded."""
    path = module_file(src, name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named = set()
    for node in import_nodes(ast.parse(path.read_text(encoding="utf-8")), inside_functions=True):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
            continue
        base = package.rsplit(".", node.level - 1)[0] if node.level else ""
        module = ".".join(part for part in (base, node.module) if part)
        for alias in node.names:
            named.add(f"{module}.{alias.name}" if module_file(src, f"{module}.{alias.name}") else module)
    own_packages = set(with_parents(name))
    loaded = {parent for module in named for parent in with_parents(module)[:-1]} - own_packages
    root = name.split(".")[0]
    return {module for module in named | loaded if module.split(".")[0] == root and module_file(src, module)} - {name}


def import_cycles(src: Path, package: str) -> list[set[str]]:
    """The groups of modules that import each other, directly or through others (strongly connected, size > 1)."""
    graph = {name: dependencies(src, name) for name in package_modules(src, package)}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for module in graph.get(todo.pop(), ()):
                if module not in seen:
                    seen.add(module)
                    todo.append(module)
        return seen

    reach = {name: reachable(name) for name in graph}
    groups = {
        frozenset(name for name in reach[start] if start in reach[name]) for start in graph if start in reach[start]
    }
    return sorted((set(group) for group in groups), key=sorted)


def test_no_module_is_part_of_an_import_cycle():
    cycles = import_cycles(REPO / "src", PACKAGE)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(cycle)) for cycle in cycles)


def test_cycles_of_a_small_package(tmp_path):
    files = {
        "pkg/__init__.py": "from pkg.core import run\n",
        "pkg/core.py": "from pkg import util\n\ndef run():\n    from .server import serve\n",
        "pkg/util.py": "import os\n",
        "pkg/server.py": "from pkg.core import run\n",
        "pkg/sub/__init__.py": "from .helper import X\nfrom .greedy import Y\n",
        "pkg/sub/helper.py": "from pkg.util import os\nX = 1\n",
        "pkg/sub/greedy.py": "from pkg.sub import X\nY = X\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # core -> server (inside a function) -> core; greedy takes a name from its package, which imports
    # greedy; helper and core, merely inside the package that imports them, close no cycle.
    assert import_cycles(tmp_path, "pkg") == [{"pkg.core", "pkg.server"}, {"pkg.sub", "pkg.sub.greedy"}]
