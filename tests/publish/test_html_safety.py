"""The HTML check before publishing: active content that the theme did not put there fails.

The theme's own scripts pass (every real build in tests/publish/test_build.py runs the check);
these pages show what fails, each as the book would have carried it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltk.errors import PublishError
from evaltk.publish.html_safety import html_problems, scan_html_safety

THEME_HEAD = (
    "<head><script>document.documentElement.dataset.mode = localStorage.getItem('mode');"
    "</script><script src='_static/doctools.js?v=1'></script></head>"
)


def page(body: str) -> str:
    return f"<html>{THEME_HEAD}<body>{body}<script>kernelName = 'python3'</script></body></html>"


def test_the_theme_shape_passes() -> None:
    assert html_problems(page("<h1>Title &lt;script&gt;</h1><a href='x.html'>x</a>")) == []


@pytest.mark.parametrize(
    ("body", "found"),
    [
        # The print header of sphinx-book-theme before evaltk.publish.sphinx_guard.
        ("<h1>Title <script>alert(1)</script></h1>", "an inline <script> in the page body"),
        ("<img src=x onerror='alert(1)'>", "an event-handler attribute onerror="),
        ("<a href=' javascript:alert(1)'>x</a>", "URL in href= of <a>"),
        ("<iframe src='https://example.org'></iframe>", "a <iframe> element"),
        ("<script src='https://example.org/x.js'></script>", "loaded from outside the book"),
        ("<meta http-equiv='refresh' content='0;url=https://example.org'>", "a redirect"),
    ],
)
def test_active_content_fails(body: str, found: str) -> None:
    problems = html_problems(page(body))
    assert len(problems) == 1 and found in problems[0], problems


def test_scan_names_the_page_where_it_would_be_published(tmp_path: Path) -> None:
    staged = tmp_path / "staging"
    (staged / "analyses").mkdir(parents=True)
    (staged / "index.html").write_text(page("<p>fine</p>"))
    (staged / "analyses" / "x.html").write_text(page("<b onclick='x()'>x</b>"))
    with pytest.raises(PublishError) as caught:
        scan_html_safety(staged, shown_as=tmp_path / "html")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'html' / 'analyses' / 'x.html'}: HTML check failed")
    assert "onclick" in message and "\n" not in message
