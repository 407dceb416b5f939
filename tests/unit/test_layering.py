"""The folder is the architecture: imports point inward, and pipeline/ does no I/O."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {
    "models",
    "pipeline",
    "scenarios",
    "integrations",
    "services",
    "actors",
    "scheduler",
    "api",
    "cli",
    "settings",
}
ALLOWED = {
    "models": {"models"},
    "pipeline": {"models", "pipeline"},
    # Synthetic sessions for the demo, tests and benchmarks: pure data built from pipeline's vocabulary.
    "scenarios": {"pipeline", "scenarios"},
    "integrations": {"pipeline", "models", "integrations", "settings"},
    "services": {"pipeline", "models", "integrations", "services", "settings"},
    "actors": {"pipeline", "models", "integrations", "services", "actors", "settings"},
    "scheduler": {"pipeline", "models", "integrations", "services", "scheduler", "settings", "actors"},
    "api": OURS,
    "cli": OURS,
}
# What "I/O" means for the pure domain: the network, the database session, Redis, the clock,
# the environment and the file system.
FORBIDDEN_IN_PIPELINE = {
    "redis",
    "dramatiq",
    "sqlmodel",
    "sqlalchemy",
    "google",
    "httpx",
    "requests",
    "urllib.request",
    "socket",
    "os",
    "pathlib",
    "time",
    "shutil",
    "subprocess",
    "slack_sdk",
    "settings",
}
FORBIDDEN_CALLS = {"open", "now", "utcnow", "today", "getenv", "time", "monotonic", "perf_counter"}


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """Every module `path` imports: statements, and `importlib.import_module`/`__import__` calls.

    A dynamic import of a name (not a literal) counts every module-like string the file holds, so
    a table of module names (`ACTOR_MODULES`, the CLI's `COMMANDS`) is checked like imports.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found, dynamic = [], False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append((argument.value, node.lineno))
            else:
                dynamic = True
    if dynamic:
        found += [
            (node.value, node.lineno)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and MODULE_NAME.fullmatch(node.value)
        ]
    return found


MODULE_NAME = re.compile(r"(?:" + "|".join(sorted(OURS - {"settings"})) + r")(?:\.\w+)+")


def _dynamic_import(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def imports_where(folder: str, is_wrong) -> list[str]:
    """`path:line imports module` for each import in `folder` that `is_wrong(module)` flags."""
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files(folder)
        for module, line in imported_modules(path)
        if is_wrong(module)
    ]


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_packages_import_only_inner_layers(folder):
    top = lambda module: module.split(".")[0]  # noqa: E731
    wrong = imports_where(folder, lambda module: top(module) in OURS and top(module) not in ALLOWED[folder])
    assert not wrong, "\n".join(wrong)


def test_pipeline_imports_no_io():
    wrong = imports_where(
        "pipeline",
        lambda module: module in FORBIDDEN_IN_PIPELINE or module.split(".")[0] in FORBIDDEN_IN_PIPELINE,
    )
    assert not wrong, "\n".join(wrong)


def test_pipeline_models_imports_are_types_only():
    """pipeline/ may name models' tables, not open sessions (models.db) or run migrations."""
    wrong = imports_where(
        "pipeline", lambda module: module.startswith(("models.db", "models.migrate", "models.queries"))
    )
    assert not wrong, "\n".join(wrong)


def test_no_relative_imports_hide_from_the_layering_check():
    wrong = []
    for folder in ALLOWED:
        for path in python_files(folder):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} __import__")
    assert not wrong, "relative or dynamic imports: " + ", ".join(wrong)


def test_pipeline_calls_no_clock_files_or_environment():
    wrong = []
    for path in python_files("pipeline"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in FORBIDDEN_CALLS:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}()")
    assert not wrong, "\n".join(wrong)


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def environment_reads(path: Path) -> list[str]:
    """Reads of the environment: `os.environ`, `os.getenv`, and `from os import environ/getenv`."""
    wrong = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names} & {"environ", "getenv", "environb", "getenvb"}
            wrong += [f"{_where(path)}:{node.lineno} imports os.{name}" for name in sorted(names)]
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb", "getenvb"):
            wrong.append(f"{_where(path)}:{node.lineno} reads {node.attr}")
    return wrong


def test_only_settings_reads_the_environment():
    wrong = [line for folder in ALLOWED for path in python_files(folder) for line in environment_reads(path)]
    assert not wrong, "read the environment outside settings.py:\n" + "\n".join(wrong)


# Wall-clock reads. Durations (`time.monotonic`, `perf_counter`) are not the time of day.
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}
THE_CLOCK = ROOT / "models" / "base.py"


def test_one_clock_outside_the_pipeline():
    """Every "now" comes from `models.base.utcnow` (or a `now` a use case was given)."""
    wrong = []
    for folder in ALLOWED:
        for path in python_files(folder):
            if path == THE_CLOCK:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                func = node.func if isinstance(node, ast.Call) else None
                name = (
                    (func.value.id, func.attr)
                    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    else None
                )
                if name in CLOCK_READS:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {'.'.join(name)}()")
    assert not wrong, "\n".join(wrong)


def test_the_scheduler_only_sends_to_actors():
    """The scheduler reaches workers through the queue (`integrations.queues`), never actor code."""
    wrong = imports_where(
        "scheduler", lambda module: module.startswith("actors") and module != "actors.broker"
    )
    assert not wrong, "\n".join(wrong)


def test_the_layering_check_catches_a_violation(tmp_path):
    """The checker itself can fail: a module importing redis is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import redis\nfrom sqlmodel import Session\n")
    modules = {module for module, _ in imported_modules(bad)}
    assert modules & FORBIDDEN_IN_PIPELINE == {"redis", "sqlmodel"}


def test_the_checks_see_dynamic_imports_environment_and_clock_reads(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import importlib\nfrom os import environ\nimport os, time\n"
        "MODULES = ('actors.observe',)\nimportlib.import_module(MODULES[0])\n__import__('cli.main')\n"
        "os.getenv('X')\ntime.time()\n"
    )
    modules = {module for module, _ in imported_modules(bad)}
    assert {"actors.observe", "cli.main"} <= modules
    assert [line.split(" ", 1)[1] for line in environment_reads(bad)] == [
        "imports os.environ",
        "reads getenv",
    ]
