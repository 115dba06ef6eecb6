"""The book's Sphinx extension names image files the same whatever order pages were read in."""

from __future__ import annotations

from types import SimpleNamespace

from sphinx.util import FilenameUniqDict

from evaltk.publish.sphinx_guard import name_images_in_page_order

#: Page -> the images it shows, in page order (two analyses each with a journeys.png).
PAGES = {
    "analyses/a/index": ["analyses/a/figures/journeys.png", "analyses/a/figures/ledger.png"],
    "analyses/b/index": ["analyses/b/figures/journeys.png", "analyses/a/figures/ledger.png"],
    "analyses/c/index": ["analyses/c/figures/journeys.png"],
}


def _read(order: list[list[str]]) -> FilenameUniqDict:
    """Images as Sphinx's environment holds them after reading the chunks of pages ``order``
    and merging each chunk as it finishes (FilenameUniqDict.merge_other)."""
    images = FilenameUniqDict()
    for chunk in order:
        read = FilenameUniqDict()
        for page in chunk:
            for source in PAGES[page]:
                read.add_file(page, source)
        images.merge_other(set(chunk), read)
    return images


def _names(images: FilenameUniqDict) -> dict[str, str]:
    return {source: name for source, (_pages, name) in images.items()}


def test_images_are_named_in_page_order_whichever_chunk_finished_first() -> None:
    serial = _read([sorted(PAGES)])
    late_first = _read([["analyses/c/index"], ["analyses/b/index"], ["analyses/a/index"]])
    # Without the handler, the chunk that finished first takes the unnumbered name.
    assert _names(late_first)["analyses/c/figures/journeys.png"] == "journeys.png"
    assert _names(serial)["analyses/a/figures/journeys.png"] == "journeys.png"

    for images in (serial, late_first):
        env = SimpleNamespace(images=images)
        name_images_in_page_order(None, env)
        assert _names(env.images) == {
            "analyses/a/figures/journeys.png": "journeys.png",
            "analyses/a/figures/ledger.png": "ledger.png",
            "analyses/b/figures/journeys.png": "journeys1.png",
            "analyses/c/figures/journeys.png": "journeys2.png",
        }
        # The pages that show each image are kept.
        assert env.images["analyses/a/figures/ledger.png"][0] == {
            "analyses/a/index",
            "analyses/b/index",
        }
