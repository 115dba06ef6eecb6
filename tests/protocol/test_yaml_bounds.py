"""Bounded reading of protocol YAML: what a hostile or unlucky file gets is one line, quickly.

Each case is a file a force analyst could be handed or produce by accident; each must end in
one ProtocolError line naming the file (and line where there is one), never a traceback, a hang
or the file's content.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from evaltk.errors import ProtocolError
from evaltk.protocol import load_protocol
from evaltk.protocol.yaml_text import MAX_BYTES, MAX_DEPTH, load_mapping

# The classic "billion laughs": 617 bytes that expand to 10^9 strings if aliases are followed.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def one_line(path: Path) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "analysis.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 1000
    began = time.perf_counter()
    line = one_line(path)
    # Refused from the event stream, before anything is expanded: milliseconds, not minutes.
    assert time.perf_counter() - began < 2.0
    assert line == (
        f"{path}:2: YAML alias '*a' is not allowed in a protocol; write the value out in full"
    )


def test_self_referencing_alias_is_one_line_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "analysis.yaml"
    path.write_text("a: &loop\n  b: *loop\n", encoding="utf-8")
    assert "YAML alias '*loop' is not allowed" in one_line(path)


def test_nesting_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "analysis.yaml"
    path.write_text("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", "utf-8")
    assert f"nested more than {MAX_DEPTH} levels deep" in one_line(path)


def test_file_larger_than_the_bound_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "analysis.yaml"
    path.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    assert one_line(path).startswith(f"{path}: {MAX_BYTES + 3:,} bytes is too large")


def test_symlink_loop_as_file_and_as_template(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert one_line(loop) == (
        f"{loop}: a symbolic link that loops back on itself; point it at a real file"
    )
    analysis = tmp_path / "analysis.yaml"
    analysis.write_text("protocol: loop.yaml\n", encoding="utf-8")
    assert "'loop.yaml' is a symbolic link that loops back on itself" in one_line(analysis)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root (as CI runs) reads any file, so the refusal is simulated at the read."""
    path = tmp_path / "analysis.yaml"
    path.write_text("title: x\n", encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert one_line(path) == (f"{path}: cannot be read (permission denied); check its permissions")


def test_a_folder_given_as_the_protocol_template(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    analysis = tmp_path / "analysis.yaml"
    analysis.write_text("protocol: folder.yaml\n", encoding="utf-8")
    assert "protocol: template 'folder.yaml' not found" in one_line(analysis)


def test_a_file_that_is_not_yaml_is_not_quoted(tmp_path: Path) -> None:
    """A parse error names the file and line, never the line's text (it may be a secret)."""
    path = tmp_path / "passwd"
    secret = "root:x:0:0:secret-token-123:/root:/bin/bash"
    path.write_text(f"{secret}\n\tdaemon: [unclosed\n", encoding="utf-8")
    line = one_line(path)
    assert line.startswith(f"{path}:")
    assert "secret-token-123" not in line and "daemon" not in line


def test_init_templates_are_read_within_the_same_bounds(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(ProtocolError, match="YAML alias"):
        load_mapping(path)
