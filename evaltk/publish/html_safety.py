"""The HTML check run on every built book before it is published: no active content from text.

Every free text of a protocol (title, question, outcome labels, notes, amendment reasons, the
registrant's name) is escaped by evaltk's templates (:mod:`evaltk.publish.escape`), and the one
place where the book theme wrote a page title raw is overridden
(:mod:`evaltk.publish.sphinx_guard`). This scan is the last line: it reads each built page and
refuses the build if it finds anything that could run or load code, other than the theme's
own scripts:

* an element that embeds or redirects (``iframe``, ``object``, ``embed``, ``base``, a
  ``meta`` refresh, ...), or an ``srcdoc`` attribute;
* an event-handler attribute (``onload``, ``onerror``, ...);
* a ``javascript:``, ``vbscript:`` or ``data:`` URL (images may use ``data:image/``);
* a ``<script>`` loading a file from outside the book, or an inline script in the page body
  that is not one of the theme's few known ones (the theme's inline scripts sit in ``<head>``,
  which user text reaches only as the escaped ``<title>``).

It is stdlib-only (``html.parser``), so it reads the page as a browser tokenises it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from evaltk.errors import PublishError

_EMBEDDING = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"}
)
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping"}
)
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_JS_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)
#: Inline scripts the book theme (sphinx-book-theme, pydata-sphinx-theme, Jupyter Book 1.x)
#: writes in the page body, whitespace collapsed.
_THEME_BODY_SCRIPTS = frozenset(
    {
        "kernelName = 'python3'",
        "// Activate the search field on page load let searchInput = document.querySelector("
        '"form.bd-search input"); if (searchInput) { searchInput.focus(); searchInput.select(); '
        'console.log("[PST]: Set focus on search field."); }',
    }
)
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_body = False
        self._script: dict[str, str] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name.lower(): value or "" for name, value in attrs}
        if tag == "body":
            self._in_body = True
        if tag in _EMBEDDING:
            self.problems.append(f"a <{tag}> element")
        if tag == "meta" and found.get("http-equiv", "").lower() == "refresh":
            self.problems.append("a <meta http-equiv=refresh> (a redirect)")
        for name, value in found.items():
            if name.startswith("on"):
                self.problems.append(f"an event-handler attribute {name}= on <{tag}>")
            elif name == "srcdoc":
                self.problems.append(f"an srcdoc attribute on <{tag}>")
            elif name in _URL_ATTRIBUTES and _bad_url(tag, value):
                self.problems.append(f"a {value.strip()[:24]!r}... URL in {name}= of <{tag}>")
        if tag == "script":
            self._script, self._script_text = found, []
            source = found.get("src")
            if source is not None and (
                re.match(r"^[a-z][a-z0-9+.\-]*:", source.strip(), re.I)
                or source.strip().startswith(("/", "\\"))
            ):
                self.problems.append(f"a <script> loaded from outside the book ({source[:60]})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self._script is None:
            return
        attributes, self._script = self._script, None
        text = _SPACE.sub(" ", "".join(self._script_text)).strip()
        inline_js = "src" not in attributes and attributes.get("type", "").lower() in _JS_TYPES
        if self._in_body and inline_js and text and text not in _THEME_BODY_SCRIPTS:
            self.problems.append(f"an inline <script> in the page body ({text[:60]!r})")


def _bad_url(tag: str, value: str) -> bool:
    url = _CONTROL.sub("", value).lower()
    if tag == "img" and url.startswith("data:image/"):
        return False
    return url.startswith(_BAD_SCHEMES)


def html_problems(html: str) -> list[str]:
    """What in one page could run or load code that the book theme did not put there."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems


def scan_html_safety(html_dir: Path, shown_as: Path | None = None) -> None:
    """Fail if any page under ``html_dir`` holds active content (see the module docstring).

    Parameters
    ----------
    html_dir : pathlib.Path
        The built HTML (a staging folder, before it is published).
    shown_as : pathlib.Path, optional
        Where that HTML will be published, to name the page in the message.

    Raises
    ------
    PublishError
        Naming the first page and what was found in it.
    """
    for page in sorted(html_dir.rglob("*.html")):
        problems = html_problems(page.read_text(encoding="utf-8", errors="replace"))
        if problems:
            name = (shown_as or html_dir) / page.relative_to(html_dir)
            raise PublishError(
                f"{name}: HTML check failed: {problems[0]}; text in a protocol or result "
                "reached the page unescaped, so this build was not published"
            )
