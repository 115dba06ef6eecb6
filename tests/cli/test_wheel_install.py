"""A force's own evaluation, outside this repository, from the built wheel.

Builds the wheel from the repository's files (``pip wheel --no-deps``), installs it into a fresh
virtual environment in a temporary folder, and there runs what a force analyst runs in their
own folder: ``evaltk init``, ``init --template``, ``simulate``, ``validate``, ``register``,
``run`` and ``book``. The fresh environment borrows the already-installed dependencies through
a ``.pth`` line naming this environment's site-packages (so no download): a ``.pth`` line adds
a folder to ``sys.path`` but does not run the ``.pth`` files inside it, so this checkout's
editable install stays invisible, which the test asserts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from evaltk.scaffold import PACKAGED_DIR, scaffold_files

ROOT = Path(__file__).resolve().parents[2]
BIN = "Scripts" if os.name == "nt" else "bin"


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert completed.returncode == 0, (
        f"{' '.join(command)} failed ({completed.returncode}):\n"
        f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return completed.stdout


def _repository_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the wheel is built from the repository's files")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(temporary root, fresh environment's site-packages, environment for its commands)."""
    top = tmp_path_factory.mktemp("wheel")
    # Built from a copy holding only the repository's files: no build/ left over from another
    # build, no .venv, no results, exactly what a clone (and so CI) has.
    source = top / "src"
    for name in _repository_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, source / name)
    wheels = top / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        source,
        dict(os.environ),
    )
    (wheel,) = wheels.glob("evaltk-*.whl")

    fresh = top / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], top, dict(os.environ))
    python = fresh / BIN / ("python.exe" if os.name == "nt" else "python")
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            top,
            dict(os.environ),
        ).strip()
    )
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_borrowed_dependencies.pth").write_text(
        "".join(f"{path}\n" for path in sorted(here)), encoding="utf-8"
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        top,
        dict(os.environ),
    )
    # A real install has jupyter-book's script beside the interpreter; the borrowed one's
    # shebang names this environment's Python, so it is written again for the fresh one.
    borrowed = Path(sys.executable).parent / "jupyter-book"
    script = fresh / BIN / "jupyter-book"
    lines = borrowed.read_text(encoding="utf-8").splitlines(keepends=True)
    script.write_text(f"#!{python}\n" + "".join(lines[1:]), encoding="utf-8")
    script.chmod(0o755)

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "EVALTK_REFERENCE_DIR")
    }
    env.update(
        PATH=f"{fresh / BIN}{os.pathsep}{env.get('PATH', '')}",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        COLUMNS="200",
    )
    return top, site, env


@pytest.mark.slow
def test_the_wheel_is_imported_not_the_checkout(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    top, site, env = installed
    where = _run(
        [
            "python",
            "-c",
            "import evaltk, evaltk.project as p; print(evaltk.__file__); print(p.scaffold_root())",
        ],
        top,
        env,
    ).splitlines()
    assert Path(where[0]).resolve() == (site / "evaltk" / "__init__.py").resolve()
    assert Path(where[1]).resolve() == (site / "evaltk" / PACKAGED_DIR).resolve()
    # The packaged scaffold is the repository's files, byte for byte, and nothing else.
    packaged = site / "evaltk" / PACKAGED_DIR
    expected = scaffold_files(ROOT)
    assert scaffold_files(packaged) == expected
    assert "book/validation/reference-bernal2017.json" in expected
    assert "analyses/example-street-triage/registration.json" in expected
    for name in expected:
        assert _digest(packaged / name) == _digest(ROOT / name), name


@pytest.mark.slow
def test_a_force_runs_its_own_evaluation_in_its_own_folder(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    top, _, env = installed
    evaltk = str(top / "venv" / BIN / "evaltk")
    home = top / "home"
    home.mkdir()
    _run([evaltk, "init", "my-evaluation"], home, env)
    project = home / "my-evaluation"
    assert (project / "evaltk-project.toml").is_file()
    assert (project / "README.md").is_file()

    # Commands run from a folder inside the project, as an analyst in Jupyter's terminal would.
    analyses = project / "analyses"
    output = _run([evaltk, "init", "--template", "street-triage-its", "my-force"], analyses, env)
    assert "following ../../protocols/street-triage-its.yaml" in output
    _run([evaltk, "simulate", "my-force/data", "--preset", "demo"], analyses, env)
    assert "is a valid protocol" in _run([evaltk, "validate", "my-force"], analyses, env)
    # From another folder of the project, a name is found in the project's analyses/.
    elsewhere = project / "book"
    power = _run(
        [evaltk, "power", "my-force", "--replicates", "10", "--workers", "1"], elsewhere, env
    )
    assert "minimum detectable effect" in power
    assert (analyses / "my-force" / "power" / "power.json").is_file()
    _run(
        [evaltk, "register", "my-force", "--data-access", "not_collected", "--by", "test"],
        analyses,
        env,
    )
    _run([evaltk, "run", "my-force"], elsewhere, env)
    assert (analyses / "my-force" / "results" / "results.json").is_file()
    # A second analysis not run yet is left out of the book with one line, not a failure.
    _run([evaltk, "init", "--template", "right-care-right-person-cits", "later"], analyses, env)
    completed = subprocess.run(
        [evaltk, "book"],
        cwd=analyses / "my-force",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "later: not run yet, left out of the book" in completed.stderr
    index = Path(completed.stdout.strip().splitlines()[-1])
    assert index == project / "book" / "_build" / "html" / "index.html"

    html = index.parent
    validation = (html / "validation.html").read_text(encoding="utf-8")
    assert "Bernal" in validation and "0.894" in validation  # model 1's published rate ratio
    assert "Callaway" in validation or "mpdta" in validation
    forbidden = {str(top), str(top.resolve()), str(ROOT), str(Path.home())} - {"/"}
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for path in forbidden:
            assert path not in text, f"{page.relative_to(html)} shows the local path {path}"


@pytest.mark.slow
def test_the_api_notebook_runs_in_the_installed_environment(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    """The book's Python API notebook, as `evaltk init` copies it into a project, executed by
    the installed environment's own interpreter in a kernel without ipywidgets."""
    import json

    top, _, env = installed
    bin_dir = top / "venv" / BIN
    _run([str(bin_dir / "evaltk"), "init", "nb-project"], top, env)
    notebook = top / "nb-project" / "book" / "api.ipynb"
    assert notebook.is_file(), "evaltk init did not copy the API notebook into the book"
    script = ROOT / "scripts" / "execute_notebook.py"
    output = _run([str(bin_dir / "python"), str(script), str(notebook)], notebook.parent, env)
    assert "executed" in output
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o["output_type"] == "error"]
    shown = json.dumps(outputs)
    assert "s136_rate" in shown and "image/png" in shown  # the tidy table and a figure
