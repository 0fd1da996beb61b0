"""The layout rules a newcomer relies on, checked on the source (parsed with `ast`, nothing imported but for the
callback data check): no import cycles among the modules of `bot/` and `handlers/`; nothing under `bot/` imports
`handlers` but the composition root `bot/app.py`; no SQL in handlers (services own their tables); no handler
module over 300 lines; one prefix per callback data class.

Each check reports every offender with its file and line. The checkers take a root directory (or a graph, or a
base class), so the tests at the end show on small synthetic inputs that each one does fail.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers")
COMPOSITION_ROOT = "bot.app"
MAX_HANDLER_MODULE_LINES = 300
# What a handler may take from SQLAlchemy: the session types of what the dispatcher injects, and its exceptions.
ALLOWED_SQLALCHEMY = {"sqlalchemy.ext.asyncio": {"AsyncSession", "async_sessionmaker"}, "sqlalchemy.exc": None}
# `python -m bot` runs the command line; the migration scripts run only inside alembic.
NOT_IMPORTABLE = ("bot.db.migrations",)
SQL_CALLS = {"select", "update", "insert", "delete", "text"}


# ---------------------------------------------------------------------------------------------- the import graph


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported name, resolved to a module where one exists (`from a import b` → a.b if a/b.py exists)
    path: str  # file of the importing module, relative to the root
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_files(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every .py file under the packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, function bodies included, but not the body of `if TYPE_CHECKING:` (never executed)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
            else:
                stack.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _base_of(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, root: Path, known: set[str]) -> list[Import]:
    """Every import statement of the module, module level and inside functions alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(root))
    found: list[Import] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, rel, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(module, path, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(module, sub if sub in known else base, rel, node.lineno))
    return sorted(found, key=lambda imp: imp.line)


def project_imports(root: Path = ROOT) -> list[Import]:
    files = module_files(root)
    known = set(files)
    return [imp for module, path in files.items() for imp in imports_of(module, path, root, known)]


def import_graph(imports: Iterable[Import], known: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.target in known and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    return dict(graph)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path that starts and ends at the same module) per strongly connected component of more than
    one module (Tarjan), in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(_cycle_within(graph, set(c), c[0]) for c in components)


def _cycle_within(graph: dict[str, set[str]], members: set[str], start: str) -> list[str]:
    """The shortest path start → … → start inside the component (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph.get(node, set()) & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")


def cycle_report(root: Path = ROOT) -> list[str]:
    imports = project_imports(root)
    lines = {(i.source, i.target): i.where() for i in reversed(imports)}  # the first import of each edge
    graph = import_graph(imports, set(module_files(root)))
    return [
        " -> ".join(f"{a} ({lines[(a, b)]})" for a, b in pairwise(cycle)) + f" -> {cycle[-1]}"
        for cycle in find_cycles(graph)
    ]


# ------------------------------------------------------------------------------------------------ the other rules


def bot_imports_handlers(root: Path = ROOT) -> list[str]:
    return [
        f"{imp.where()}: {imp.source} imports {imp.target}"
        for imp in project_imports(root)
        if imp.source.split(".")[0] == "bot"
        and imp.source != COMPOSITION_ROOT
        and (imp.target == "handlers" or imp.target.startswith("handlers."))
    ]


def sql_in_handlers(root: Path = ROOT) -> list[str]:
    problems: list[tuple[str, int, str]] = []
    for module, path in module_files(root, ("handlers",)).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = str(path.relative_to(root))
        sql_names: set[str] = set()  # local names of SQLAlchemy's statement builders
        sql_modules: set[str] = set()  # local names bound to an SQLAlchemy module
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_sqlalchemy(alias.name) or alias.name.startswith("bot.db.models"):
                        problems.append((rel, node.lineno, f"import {alias.name}"))
                    if _is_sqlalchemy(alias.name):
                        sql_modules.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                base = _base_of(module, path, node)
                names = [a.name for a in node.names]
                if _is_sqlalchemy(base):
                    allowed = ALLOWED_SQLALCHEMY.get(base, set())
                    bad = [] if allowed is None else [n for n in names if n not in allowed]
                    if bad:
                        problems.append((rel, node.lineno, f"from {base} import {', '.join(bad)}"))
                    sql_names |= {a.asname or a.name for a in node.names if a.name in SQL_CALLS}
                if base.startswith("bot.db.models") or any(f"{base}.{n}".startswith("bot.db.models") for n in names):
                    problems.append((rel, node.lineno, f"from {base} import {', '.join(names)}"))
        for node in _runtime_nodes(tree):  # once every import is known
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in sql_names:
                    problems.append((rel, node.lineno, f"SQL call {func.id}(...)"))
                elif isinstance(func, ast.Attribute) and func.attr in SQL_CALLS and _root_name(func) in sql_modules:
                    problems.append((rel, node.lineno, f"SQL call {ast.unparse(func)}(...)"))
    return [f"{rel}:{line}: {what}" for rel, line, what in sorted(problems)]


def _is_sqlalchemy(name: str) -> bool:
    return name == "sqlalchemy" or name.startswith("sqlalchemy.")


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def long_handler_modules(root: Path = ROOT, limit: int = MAX_HANDLER_MODULE_LINES) -> list[str]:
    problems = []
    for path in module_files(root, ("handlers",)).values():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            problems.append(f"{path.relative_to(root)}: {count} lines (at most {limit})")
    return problems


def subclasses(base: type) -> Iterator[type]:
    cls: type
    for cls in base.__subclasses__():
        yield cls
        yield from subclasses(cls)


def duplicate_prefixes(classes: Iterable[type]) -> list[str]:
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for cls in classes:
        by_prefix[cls.__prefix__].append(f"{cls.__module__}.{cls.__qualname__}")  # type: ignore[attr-defined]
    return [f"prefix {p!r}: {', '.join(sorted(names))}" for p, names in sorted(by_prefix.items()) if len(names) > 1]


def import_everything() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if not info.name.endswith(".__main__") and not info.name.startswith(NOT_IMPORTABLE):
                importlib.import_module(info.name)


# ---------------------------------------------------------------------------------------------- the project checks


def test_no_import_cycles() -> None:
    cycles = cycle_report()
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_nothing_under_bot_imports_handlers_but_the_composition_root() -> None:
    offenders = bot_imports_handlers()
    assert not offenders, "bot/ imports handlers:\n" + "\n".join(offenders)


def test_no_sql_in_handlers() -> None:
    offenders = sql_in_handlers()
    assert not offenders, "SQL in handlers (use a service in bot/services/):\n" + "\n".join(offenders)


def test_no_handler_module_over_300_lines() -> None:
    offenders = long_handler_modules()
    assert not offenders, "handler modules too long:\n" + "\n".join(offenders)


def test_every_callback_data_class_has_its_own_prefix() -> None:
    from aiogram.filters.callback_data import CallbackData

    import bot.telegram.callbacks  # noqa: F401  (the callback data of every capability)

    import_everything()
    ours = [cls for cls in subclasses(CallbackData) if cls.__module__.split(".")[0] in PACKAGES]
    assert len(ours) > 5  # the walk found the project's classes
    duplicates = duplicate_prefixes(ours)
    assert not duplicates, "callback data prefixes used twice:\n" + "\n".join(duplicates)


# ------------------------------------------------------------------------------- the checkers do fail (fixtures)


def test_the_cycle_finder_reports_each_cycle_and_nothing_else() -> None:
    graph = {
        "a": {"b"},
        "b": {"c", "d"},
        "c": {"a"},  # a -> b -> c -> a
        "d": {"e"},
        "e": set(),
        "x": {"y"},
        "y": {"x"},  # x <-> y
    }
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["x", "y", "x"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    for package in ("bot", "bot/services", "handlers", "handlers/staff"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(tmp_path, "bot/app.py", "from handlers import build\n")  # allowed: the composition root
    _write(tmp_path, "bot/services/a.py", "from bot.services import b\n")
    _write(tmp_path, "bot/services/b.py", "def f():\n    from bot.services.a import g\n")  # a function-level cycle
    _write(
        tmp_path, "bot/services/typed.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot.app\n"
    )
    _write(tmp_path, "bot/jobs.py", "import os\n\n\ndef run():\n    from handlers.staff import views\n")
    _write(tmp_path, "handlers/staff/views.py", "")
    _write(
        tmp_path,
        "handlers/staff/agenda.py",
        "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.exc import IntegrityError\n"
        "from bot.db.models import Client\n"
        "from bot.db import models_booking\n"
        "import sqlalchemy as sa\n\n\n"
        "async def h(session: AsyncSession):\n"
        "    await session.scalar(select(Client.id))\n"
        "    await session.execute(sa.delete(Client))\n",
    )
    _write(tmp_path, "handlers/big.py", "x = 1\n" * 301)
    _write(tmp_path, "handlers/fine.py", "x = 1\n" * 300)
    return tmp_path


def test_the_layout_checks_report_precisely_what_is_wrong(bad_tree: Path) -> None:
    assert cycle_report(bad_tree) == [
        "bot.services.a (bot/services/a.py:1) -> bot.services.b (bot/services/b.py:2) -> bot.services.a"
    ]
    assert bot_imports_handlers(bad_tree) == ["bot/jobs.py:5: bot.jobs imports handlers.staff.views"]
    assert sql_in_handlers(bad_tree) == [
        "handlers/staff/agenda.py:1: from sqlalchemy import select",
        "handlers/staff/agenda.py:4: from bot.db.models import Client",
        "handlers/staff/agenda.py:5: from bot.db import models_booking",
        "handlers/staff/agenda.py:6: import sqlalchemy",
        "handlers/staff/agenda.py:10: SQL call select(...)",
        "handlers/staff/agenda.py:11: SQL call sa.delete(...)",
    ]
    assert long_handler_modules(bad_tree) == ["handlers/big.py: 301 lines (at most 300)"]


def test_duplicate_prefixes_are_named() -> None:
    class Base:
        __prefix__ = "base"

    class One(Base):
        __prefix__ = "x"

    class Two(Base):
        __prefix__ = "y"

    class Three(Two):  # a subclass of a subclass is found too
        __prefix__ = "x"

    found = duplicate_prefixes(subclasses(Base))
    assert found == [f"prefix 'x': {__name__}.{One.__qualname__}, {__name__}.{Three.__qualname__}"]
    assert duplicate_prefixes([One, Two]) == []
