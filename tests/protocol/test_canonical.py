"""The protocol hash changes with every value and with nothing else."""

from __future__ import annotations

from pathlib import Path

from evaltk.protocol import load_protocol
from evaltk.protocol.canonical import protocol_sha256

TEMPLATE = Path(__file__).resolve().parents[2] / "protocols" / "street-triage-its.yaml"


def test_comments_and_key_order_do_not_change_the_hash(tmp_path: Path) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    stripped = "\n".join(
        line.split(" #")[0].rstrip() for line in text.splitlines() if not line.startswith("#")
    )
    lines = stripped.splitlines()
    seed = next(i for i, line in enumerate(lines) if line.startswith("seed:"))
    reordered = [lines[seed], *lines[:seed], *lines[seed + 1 :]]
    copy = tmp_path / "copy.yaml"
    copy.write_text("\n".join(reordered) + "\n", encoding="utf-8")
    assert protocol_sha256(load_protocol(copy).protocol) == protocol_sha256(
        load_protocol(TEMPLATE).protocol
    )


def test_a_changed_value_changes_the_hash(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(
        TEMPLATE.read_text(encoding="utf-8").replace("within_days: 28", "within_days: 29"),
        encoding="utf-8",
    )
    assert protocol_sha256(load_protocol(copy).protocol) != protocol_sha256(
        load_protocol(TEMPLATE).protocol
    )
