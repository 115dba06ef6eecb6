"""The pre-registration page in a real browser (issue 20, item 2): at 800 and 1280 px its tables
fit the column, and no outcome id or label in the Variables table is broken inside a word; the
check catches ids broken a few characters a line, as the old six-column layout drew them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .chromium import Chromium

PAGE = Path("analyses") / "example-street-triage" / "preregistration.html"

#: Runs in the page: every word of the Variables table drawn on more than one line (a word
#: broken inside; a line may end after a hyphen, "missing-" / "person"), and the number of
#: ids measured.
_BROKEN_WORDS = """
(() => {
  const table = document.querySelector('article table.evaltk-variables');
  if (!table) return JSON.stringify({found: false, ids: 0, broken: []});
  const broken = [];
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/[^\\s\\-\u2010\u2013]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return JSON.stringify({
    found: true, ids: table.querySelectorAll('code').length, broken: broken,
  });
})()
"""


def _words(chromium: Chromium) -> dict:
    value = chromium.send("Runtime.evaluate", expression=_BROKEN_WORDS, returnByValue=True)
    return json.loads(value["result"]["value"])


@pytest.mark.parametrize("width", [1280, 800])
def test_preregistration_tables_fit_and_break_no_word(
    chromium: Chromium, built_html: Path, tmp_path: Path, width: int
) -> None:
    page = built_html / PAGE
    report = chromium.check_page(page.as_uri(), tmp_path / f"prereg-{width}.png", width)
    print(f"screenshot at {width} px: {report.screenshot}")
    assert report.wide_tables == [], f"pre-registration at {width} px: {report.wide_tables}"
    words = _words(chromium)
    assert words["found"] and words["ids"] == 7  # the seven outcomes, each id measured
    assert words["broken"] == []
    # The amendments are in words, not JSON.
    text = page.read_text(encoding="utf-8")
    assert "unit cost added, £300 per event, ambulance, 1.5 staff hours per event" in text
    assert "amount_gbp" not in text


def test_the_old_rule_breaking_ids_is_caught(
    chromium: Chromium, built_html: Path, tmp_path: Path
) -> None:
    html = tmp_path / "html"
    shutil.copytree(built_html, html)
    page = html / PAGE
    text = page.read_text(encoding="utf-8")
    table = '<table class="evaltk-variables table">'
    assert text.count(table) == 1
    # The old layout: a narrow id column (one of six) under the rule for hashes, which breaks
    # code anywhere; its ids were drawn a few characters a line.
    old = '<table class="evaltk-was-variables table" style="table-layout: fixed">'
    old += '<colgroup><col style="width: 6%" /><col /><col /></colgroup>'
    page.write_text(text.replace(table, old), encoding="utf-8")
    chromium.check_page(page.as_uri(), None, 800)
    value = chromium.send(
        "Runtime.evaluate",
        expression=_BROKEN_WORDS.replace("table.evaltk-variables", "table.evaltk-was-variables"),
        returnByValue=True,
    )
    words = json.loads(value["result"]["value"])
    assert words["found"] and "ambulance_conveyance_rate" in words["broken"]
