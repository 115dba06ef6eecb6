"""The architecture, enforced: layer contracts (import-linter) and every module importable alone.

The layers are listed in pyproject.toml ([tool.importlinter]) and in ARCHITECTURE.md: a package
may import the layers below it, never one above it, and independent siblings in one layer
(``a | b``) never import each other. A circular import between two modules can hide for months
when some other import happens to load one of them first; importing each module first, in an
interpreter that has loaded nothing of evaltk, finds it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "evaltk"

#: One child per module, forked from a parent that holds no evaltk module, so each module is
#: the first evaltk import of its own interpreter state (the property that finds a hidden
#: cycle). Two things make a child cheap without changing what it imports first:
#:
#: * the parent has already imported every third-party module that evaltk's modules import
#:   when they load (read from their import statements outside functions, not by importing
#:   evaltk), so a child runs evaltk's own module bodies. Which evaltk module comes first is
#:   unchanged: a library never imports evaltk, so it cannot be part of an evaltk cycle.
#:   Libraries imported only inside functions stay out of the parent (some, such as
#:   dask.distributed, make every fork dearer).
#: * evaltk's sources are compiled to bytecode once, into a temporary cache, after those
#:   imports (so that the libraries keep their installed bytecode); a child would otherwise
#:   compile every module it imports, which is most of its time when PYTHONDONTWRITEBYTECODE
#:   is set.
#:
#: Two children at a time: the machine has two cores.
_IMPORT_EACH = """
import ast, compileall, gc, importlib, os, shutil, sys, tempfile, traceback
package, names = sys.argv[1], sys.argv[2:]  # the package folder; its modules
own = os.path.basename(package)

def module_level(node):  # what runs on import: not the bodies of functions
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield child
            yield from module_level(child)

def third_party(folder):
    found = set()
    for dirpath, _, files in os.walk(folder):
        for file in files:
            if not file.endswith(".py"):
                continue
            with open(os.path.join(dirpath, file), encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            for node in module_level(tree):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(n for n in found if n.split(".")[0] != own)

for name in third_party(package):
    try:
        importlib.import_module(name)
    except BaseException:  # a name imported from a module rather than a submodule; or absent
        module, _, attribute = name.rpartition(".")
        try:  # a lazily loaded name (pydantic.BaseModel) loads its module on first access
            getattr(sys.modules.get(module), attribute, None)
        except BaseException:
            pass
assert not [n for n in sys.modules if n.split(".")[0] == own], "loaded in the parent"
cache = tempfile.mkdtemp(prefix="evaltk-arch-pyc-")
sys.pycache_prefix, sys.dont_write_bytecode = cache, False
compileall.compile_dir(package, quiet=1)
gc.freeze()  # the children's collections then leave the parent's objects (and pages) alone

failed, running = [], {}

def reap():
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]

for name in names:
    if len(running) >= 2:
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc(limit=-3)
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
shutil.rmtree(cache, ignore_errors=True)
print("FAILED:" + ",".join(sorted(failed)))
"""


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    names = modules()
    assert len(names) > 100  # the listing found the package
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, str(PACKAGE), *names],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    failed = done.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert failed == "", f"modules that fail when imported first: {failed}\n{done.stderr[-3000:]}"


def test_the_fresh_import_check_finds_a_cycle_hidden_by_import_order(tmp_path: Path) -> None:
    """``a`` imports ``b``, which takes a name from ``a`` that ``a`` defines after that import:
    importing ``b`` first works (it loads ``a`` whole), importing ``a`` first fails. The check
    must name ``a`` alone, with the error, and pass the rest."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic import b  # noqa: F401\nVALUE = 1\n")
    (package / "b.py").write_text("from cyclic.a import VALUE  # noqa: F401\n")
    (package / "c.py").write_text("import json  # noqa: F401\n")
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, str(package), "cyclic.b", "cyclic.a", "cyclic.c"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("FAILED:cyclic.a")
    assert "cannot import name 'VALUE' from partially initialized module" in done.stderr


def test_layer_contracts_hold() -> None:
    """import-linter checks every contract of pyproject.toml (layers, no cycles)."""
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
