"""The book's search index is stemmed by PyStemmer, with the stems of the pure-Python stemmer."""

from __future__ import annotations

import re
from pathlib import Path

import snowballstemmer
from snowballstemmer.porter_stemmer import PorterStemmer

BOOK = Path(__file__).resolve().parents[2] / "book"


def test_sphinx_stems_with_the_c_stemmer_and_the_same_stems() -> None:
    # Sphinx's English search language asks snowballstemmer for "porter".
    stemmer = snowballstemmer.stemmer("porter")
    assert type(stemmer).__module__ == "Stemmer", type(stemmer)
    text = " ".join(page.read_text(encoding="utf-8") for page in sorted(BOOK.glob("*.md")))
    words = sorted({word.lower() for word in re.findall(r"\w+", text)})
    assert len(words) > 1000  # the hand-written pages: about 1,600 distinct words
    python = PorterStemmer()
    assert [stemmer.stemWord(w) for w in words] == [python.stemWord(w) for w in words]
