"""Script and HTML typed into every free-text field of a protocol never become live in the book.

A real analysis (small simulated force) is written with the payload in its title, question,
outcome labels, intervention description and "not measured" notes, registered and amended by
a registrant whose name and whose amendment reason carry it too, run, and built into a book.
Chromium then opens the landing page, the chapter and the pre-registration page and asks the
DOM itself: the payload's script would set ``window.__evaltk_injected`` and its elements carry
``data-injected``; neither may exist, and the payload must still be there as visible text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from analysis.conftest import TEMPLATE
from publish.conftest import BOOK_SOURCES, HANDWRITTEN

from evaltk.analysis.run import run_analysis
from evaltk.publish import build_book
from evaltk.registration import amend, register
from evaltk.simulate import SimulationConfig, write_dataset

from .chromium import Chromium

#: A script, an image whose error handler runs, and plain markup, each marked.
PAYLOAD = (
    "<script>window.__evaltk_injected = 'script'</script>"
    "<img src=x onerror=\"window.__evaltk_injected = 'img'\" data-injected=1>"
    "<b data-injected=1>bold</b>"
)
SHOWN = "<script>window.__evaltk_injected"  # the visible start of the payload, as text
_PROBE = """JSON.stringify({
  ran: typeof window.__evaltk_injected !== 'undefined' ? String(window.__evaltk_injected) : null,
  elements: document.querySelectorAll('[data-injected]').length,
  shown: document.body.innerText.split(SHOWN).length - 1,
})""".replace("SHOWN", repr(SHOWN))


@pytest.fixture(scope="module")
def injected_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("injected")
    folder = root / "analyses" / "hostile-triage"
    write_dataset(SimulationConfig.preset("small", scale=0.1, seed=11), folder / "data")
    protocol = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    protocol["title"] = f"Title {PAYLOAD}"
    protocol["question"] = f"Question {PAYLOAD}"
    protocol["intervention"]["description"] = f"Description {PAYLOAD}"
    protocol["not_measured"] = [f"Not measured {PAYLOAD}"]
    for outcome in protocol["outcomes"]:
        outcome["label"] = f"{outcome['id']} {PAYLOAD}"
    protocol["data"] = {
        "kind": "episodes",
        "path": "data/episodes.parquet",
        "population": "data/population.csv",
    }
    (folder / "analysis.yaml").write_text(yaml.safe_dump(protocol), encoding="utf-8")
    register(folder, data_access="not_collected", by=f"Ann {PAYLOAD}", now="2024-01-01T00:00:00Z")
    protocol["question"] = f"Amended question {PAYLOAD}"
    (folder / "analysis.yaml").write_text(yaml.safe_dump(protocol), encoding="utf-8")
    amend(folder, reason=f"Reason {PAYLOAD}", by=f"Bob {PAYLOAD}", now="2024-02-01T00:00:00Z")
    run_analysis(folder)
    book = root / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    return build_book(root / "analyses", book, strict=True).parent


@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "analyses/hostile-triage/index.html",
        "analyses/hostile-triage/preregistration.html",
    ],
)
def test_no_injected_script_runs_and_no_injected_element_exists(
    chromium: Chromium, injected_book: Path, page: str
) -> None:
    import json

    chromium.check_page((injected_book / page).as_uri())
    probe = chromium.send("Runtime.evaluate", expression=_PROBE, returnByValue=True)
    found = json.loads(probe["result"]["value"])
    assert found["ran"] is None, f"{page}: injected script ran ({found['ran']})"
    assert found["elements"] == 0, f"{page}: {found['elements']} injected elements in the DOM"
    # The fields did reach the page, as text: the check above is not vacuous.
    assert found["shown"] >= 1, f"{page}: the payload is not shown as text"


def test_the_probe_sees_an_unescaped_payload(chromium: Chromium, tmp_path: Path) -> None:
    """The same probe on a page with the payload left raw reports it (so the test can fail)."""
    import json

    page = tmp_path / "raw.html"
    page.write_text(f"<html><body><h1>{PAYLOAD}</h1></body></html>", encoding="utf-8")
    chromium.check_page(page.as_uri())
    probe = chromium.send("Runtime.evaluate", expression=_PROBE, returnByValue=True)
    found = json.loads(probe["result"]["value"])
    assert found["ran"] in ("script", "img")
    assert found["elements"] == 2
