"""Publishing that cannot leak, break or be quietly rewritten (issue 14).

Kills at random points (fixed seed), two commands at once, data paths outside the analysis
folder, and full or read-only disks. Each failure a user can meet must be one line on stderr
with an exit code, never a traceback; a kill must leave the old or the new results whole,
nothing that git would commit, and no process behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from evaltk.cli.progress import without_steps
from evaltk.protocol import load_protocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.registration import register
from evaltk.results.atomic import WORK_DIR, recover_folder

from .conftest import ENV, EVALTK, ROOT, analysis_yaml, cli, mount_tmpfs

#: Seconds a second command waits for the first (the default is 5 s; here it must refuse).
NO_WAIT = {"EVALTK_LOCK_WAIT": "0"}


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = without_steps(done.stderr)
    assert len(lines) == 1, done.stderr
    return lines[0]


def processes_naming(text: str) -> list[str]:
    """Command lines of the running processes that mention ``text`` (orphans of a kill)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(proc.name) != os.getpid():
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def visible_to_git(root: Path) -> list[str]:
    """Paths under ``root`` that ``git add -A`` would stage (git with no .gitignore of ours)."""
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    status = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line[3:] for line in status.stdout.splitlines()]


def wait_for(condition, seconds: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the first command never got going"
        time.sleep(0.05)


# ----------------------------------------------------------------------------- kills


def test_killed_runs_leave_whole_results_no_staging_for_git_and_no_process(
    analysis: Path,
) -> None:
    first = cli("run", analysis)
    assert first.returncode == 0, first.stderr
    results = analysis / "results"
    files = sorted(p.relative_to(results) for p in results.rglob("*"))
    before = (results / "results.json").read_bytes()
    rng = random.Random(14)
    delays = [rng.uniform(0.5, 5.0) for _ in range(3)]
    for delay in delays:
        child = subprocess.Popen(
            [str(EVALTK), "run", str(analysis)],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        # The old results or the new ones (byte-identical: runs are deterministic), whole.
        assert sorted(p.relative_to(results) for p in results.rglob("*")) == files, delay
        assert (results / "results.json").read_bytes() == before
        assert processes_naming(str(analysis)) == []
    leaked = [
        p for p in visible_to_git(analysis.parent.parent) if f"/{WORK_DIR}/" in p or ".new-" in p
    ]
    assert leaked == [], f"staging visible to git after kills at {delays}: {leaked}"
    # The next run cleans what the killed ones left.
    assert cli("run", analysis).returncode == 0
    assert [p.name for p in (analysis / WORK_DIR).iterdir()] == [".gitignore"]


def test_a_kill_between_the_two_renames_is_undone_on_the_next_start(tmp_path: Path) -> None:
    """Where the atomic exchange is not available the swap is two renames; a kill between them
    leaves no results/ but a retired copy, which the next command puts back."""
    finished = subprocess.Popen(["true"])  # its pid is that of a process no longer running
    finished.wait()
    work = tmp_path / WORK_DIR
    (work / f"results.old-{finished.pid}").mkdir(parents=True)
    (work / f"results.old-{finished.pid}" / "results.json").write_text("old")
    (work / f"results.new-{finished.pid}-abc").mkdir()  # a dead run's staging
    live = work / f"results.new-{os.getpid()}-xyz"  # a live command's staging
    live.mkdir()
    recover_folder(tmp_path / "results")
    assert (tmp_path / "results" / "results.json").read_text() == "old"
    assert sorted(p.name for p in work.iterdir()) == [live.name]


def _book_sources(root: Path) -> tuple[Path, Path]:
    from publish.conftest import BOOK_SOURCES, HANDWRITTEN, make_result, write_analysis

    analyses = root / "analyses"
    write_analysis(analyses / "example-street-triage", make_result())
    book = root / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    return analyses, book


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_book_build_leaves_no_jupyter_book_behind(tmp_path: Path, signum: int) -> None:
    analyses, book = _book_sources(tmp_path)
    parent = subprocess.Popen(
        [str(EVALTK), "book", "--analyses", str(analyses), "--book-dir", str(book)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = book / "_build" / WORK_DIR
    wait_for(lambda: any(work.glob("html.new-*")))
    wait_for(lambda: processes_naming(f"build {book}") != [])  # jupyter-book is running
    parent.send_signal(signum)
    parent.wait()
    # SIGTERM: evaltk ends the build itself; SIGKILL: the kernel tells the child (pdeathsig).
    wait_for(lambda: processes_naming(f"build {book}") == [], seconds=20)
    if signum == signal.SIGTERM:
        assert parent.returncode == 128 + signal.SIGTERM
        assert [p.name for p in work.iterdir()] == [".gitignore"]
    leaked = [p for p in visible_to_git(tmp_path) if f"/{WORK_DIR}/" in p or ".new-" in p]
    assert leaked == []
    assert not (book / "_build" / "html").exists()  # nothing half-built was published


def test_a_book_whose_pages_fail_leaves_no_jupyter_book_behind(tmp_path: Path) -> None:
    """Jupyter Book starts before the pages are written (it imports meanwhile); pages that
    fail end it too."""
    analyses, book = _book_sources(tmp_path)
    (analyses / "example-street-triage" / "results" / "results.json").write_text("{")
    failed = cli("book", "--analyses", analyses, "--book-dir", book)
    assert failed.returncode != 0 and "results.json" in one_line(failed)
    assert processes_naming(f"build {book}") == []


# ----------------------------------------------------------------------------- two at once


def test_a_run_of_a_busy_folder_refuses_in_one_line(analysis: Path) -> None:
    from evaltk.locking import folder_lock

    with folder_lock(analysis):  # as an `evaltk amend` or another run would hold it
        refused = cli("run", analysis, **NO_WAIT)
    assert refused.returncode == 75
    assert "another evaltk command is using" in one_line(refused)
    assert not (analysis / "results").exists()


def test_two_runs_started_together_both_finish_or_one_refuses(analysis: Path) -> None:
    """With the default wait the second run waits for the first; neither crashes at the swap."""
    runs = [
        subprocess.Popen(
            [str(EVALTK), "run", str(analysis)],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(), run.stderr.read() if run.stderr else "") for run in runs]
    for code, err in outcomes:
        assert "Traceback" not in err, err
        assert code == 0 or (code == 75 and len(without_steps(err)) == 1), err
    assert 0 in [code for code, _ in outcomes]
    assert json.loads((analysis / "results" / "results.json").read_text())["outcomes"]
    assert [p.name for p in (analysis / WORK_DIR).iterdir()] == [".gitignore"]


def test_a_second_book_refuses_in_one_line_and_the_first_publishes(tmp_path: Path) -> None:
    analyses, book = _book_sources(tmp_path)
    args = ["book", "--analyses", analyses, "--book-dir", book]
    first = subprocess.Popen(
        [str(EVALTK), *map(str, args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: any((book / "_build" / WORK_DIR).glob("html.new-*")))
    second = cli(*args, **NO_WAIT)
    out, err = first.communicate()
    assert first.returncode == 0, err
    assert out.strip().splitlines()[-1] == str(book / "_build" / "html" / "index.html")
    assert second.returncode == 75
    assert "another evaltk command is using" in one_line(second)


# ----------------------------------------------------------------------------- paths


def _registered(folder: Path, yaml: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "analysis.yaml").write_text(yaml)
    register(folder, data_access="not_collected", by="test", now="2024-01-01T00:00:00Z")
    return folder


def test_data_outside_the_folder_needs_allow_outside_and_is_published_by_name(
    tmp_path: Path, small_data: Path
) -> None:
    outside = str(small_data / "episodes.parquet")
    refused = cli("run", _registered(tmp_path / "a", analysis_yaml(outside)))
    assert refused.returncode == 2
    line = one_line(refused)
    assert "data.path" in line and "outside the analysis folder" in line
    assert "data.allow_outside: true" in line
    allowed = _registered(tmp_path / "b", analysis_yaml(outside, ", allow_outside: true"))
    done = cli("run", allowed)
    assert done.returncode == 0, done.stderr
    text = (allowed / "results" / "results.json").read_text()
    assert str(tmp_path) not in text and str(small_data) not in text
    data = json.loads(text)["data"]
    assert data["path"] == "<outside>/episodes.parquet"
    assert {f["path"] for f in data["files"]} == {
        "<outside>/episodes.parquet",
        "<outside>/population.csv",
    }


def test_only_a_sibling_analysis_counts_as_inside(tmp_path: Path) -> None:
    from evaltk.protocol.data_paths import is_outside

    folder = tmp_path / "analyses" / "b"
    (tmp_path / "analyses" / "a").mkdir(parents=True)
    (tmp_path / "analyses" / "a" / "analysis.yaml").write_text("")
    (tmp_path / "analyses" / "plain").mkdir()
    inside = ["data/x.csv", "./data/x.csv", "../a/data/x.csv"]
    outside = ["/etc/passwd", "../../x.csv", "../plain/x.csv", "../a/../../x.csv", ".."]
    assert [is_outside(p, folder) for p in inside] == [False] * 3
    assert [is_outside(p, folder) for p in outside] == [True] * 5


def test_allow_outside_at_its_default_keeps_the_protocol_hash(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(analysis_yaml("data/episodes.parquet"))
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text(analysis_yaml("data/episodes.parquet", ", allow_outside: false"))
    flagged = tmp_path / "flagged.yaml"
    flagged.write_text(analysis_yaml("data/episodes.parquet", ", allow_outside: true"))
    hashes = [protocol_sha256(load_protocol(p).protocol) for p in (plain, explicit, flagged)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_a_file_of_another_format_is_not_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    secret = "root:x:0:0:SECRET-LINE-7f3a:/root:/bin/bash"
    (folder / "passwd").write_text(f"{secret}\ndaemon:x:1:1:OTHER-SECRET:/usr/sbin\n")
    (folder / "analysis.yaml").write_text(
        analysis_yaml("passwd").replace("path: passwd", "path: passwd, format: csv")
    )
    done = cli("run", folder, "--exploratory")
    assert done.returncode == 2
    line = one_line(done)
    assert "does not look like column names" in line
    assert "SECRET" not in done.stderr + done.stdout


# ----------------------------------------------------------------------------- full disks


def test_a_full_disk_during_run_is_one_line_and_leaves_nothing(
    mount_point: Path, small_data: Path
) -> None:
    mount_tmpfs(mount_point, "size=200k")
    folder = _registered(
        mount_point / "small",
        analysis_yaml(str(small_data / "episodes.parquet"), ", allow_outside: true"),
    )
    done = cli("run", folder)
    assert done.returncode == 73
    line = one_line(done)
    assert str(folder) in line and "no space left on the device" in line
    assert "the previous results are unchanged" in line
    assert not (folder / "results").exists()
    assert [p.name for p in (folder / WORK_DIR).iterdir()] == [".gitignore"]


def test_a_full_disk_during_amend_is_one_line_and_keeps_the_log(
    mount_point: Path, small_data: Path
) -> None:
    mount_tmpfs(mount_point, "size=256k")
    yaml = analysis_yaml(str(small_data / "episodes.parquet"), ", allow_outside: true")
    folder = _registered(mount_point / "small", yaml)
    log = (folder / "registration.json").read_bytes()
    (folder / "analysis.yaml").write_text(yaml.replace("Small simulated", "Tiny simulated"))
    try:  # fill the disk
        with (mount_point / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
    except OSError:
        pass
    done = cli("amend", folder, "--reason", "retitled", "--by", "test")
    assert done.returncode == 73, done.stderr
    assert "no space left on the device" in one_line(done)
    assert (folder / "registration.json").read_bytes() == log


def test_a_read_only_folder_is_found_before_any_work(
    mount_point: Path, small_data: Path, tmp_path: Path
) -> None:
    mount_tmpfs(mount_point, "size=1m")
    folder = _registered(
        mount_point / "small",
        analysis_yaml(str(small_data / "episodes.parquet"), ", allow_outside: true"),
    )
    remount = subprocess.run(
        ["mount", "-o", "remount,ro", str(mount_point)], capture_output=True, check=False
    )
    if remount.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    started = time.monotonic()
    done = cli("run", folder)
    assert done.returncode != 0
    line = one_line(done)
    assert str(folder) in line and "read-only" in line.lower()
    # Refused before measuring or fitting (a run takes several seconds).
    assert "Fitting" not in done.stdout and time.monotonic() - started < 30
    # The book: a read-only BOOK/_build is reported before anything is built.
    book = tmp_path / "book"
    (book / "_build").mkdir(parents=True)
    shutil.copyfile(ROOT / "book" / "_config.yml", book / "_config.yml")
    mount_tmpfs(book / "_build", "size=64k,ro")
    try:
        refused = cli("book", "--analyses", tmp_path / "none", "--book-dir", book)
    finally:
        subprocess.run(["umount", str(book / "_build")], capture_output=True, check=False)
    assert refused.returncode == 73
    line = one_line(refused)
    assert "_build" in line and "the file system is read-only" in line
