"""The values a row of the measures statement is grouped by, packed into a few BIGINT words.

Every row carries through the per-person window the values that tell its cell apart (its
exclusion reason, unit, month, unreadable-value flags and one bit per distinct filter). Each is
a small non-negative integer of a known width, so they are packed side by side into 63-bit
words (``cell__0``, ``cell__1``...; one for the street-triage protocol) instead of travelling
as a column each: the window sorts and moves every column of every row, and the cells are then
grouped by the words alone. :meth:`CellKey.read` and :meth:`CellKey.test` give the SQL that
reads a value back, valid wherever the words are columns.
"""

from __future__ import annotations

from dataclasses import dataclass

WORD_BITS = 63  # BIGINT words that stay non-negative: no value reaches the sign bit


@dataclass(frozen=True)
class Slot:
    """Where one value lies: ``width`` bits of word ``word`` from bit ``shift`` up."""

    word: int
    shift: int
    width: int


class CellKey:
    """Places values into words, first fit, and writes the SQL that packs and reads them."""

    def __init__(self) -> None:
        self._items: list[list[tuple[str, int]]] = []  # per word: (value SQL, shift)
        self._used: list[int] = []  # bits taken, per word

    def add(self, value: str, width: int) -> Slot:
        """Make room for ``value``: SQL of an integer in ``[0, 2**width)``, never NULL."""
        if not 0 < width <= WORD_BITS:
            raise ValueError(f"a packed value takes 1 to {WORD_BITS} bits, not {width}")
        word = next((i for i, used in enumerate(self._used) if used + width <= WORD_BITS), None)
        if word is None:
            word = len(self._used)
            self._used.append(0)
            self._items.append([])
        slot = Slot(word, self._used[word], width)
        self._items[word].append((value, slot.shift))
        self._used[word] += width
        return slot

    def names(self) -> list[str]:
        """The word columns, in order."""
        return [f"cell__{i}" for i in range(len(self._used))]

    def columns(self) -> list[str]:
        """Select items computing each word from its values."""
        return [
            " | ".join(f"(CAST({value} AS BIGINT) << {shift})" for value, shift in items)
            + f" AS cell__{word}"
            for word, items in enumerate(self._items)
        ]

    @staticmethod
    def read(slot: Slot) -> str:
        """SQL: the value in ``slot`` (a BIGINT)."""
        return f"((cell__{slot.word} >> {slot.shift}) & {(1 << slot.width) - 1})"

    @staticmethod
    def test(slot: Slot) -> str:
        """SQL: TRUE where the one-bit value in ``slot`` is 1."""
        return f"(cell__{slot.word} & {1 << slot.shift}) <> 0"
