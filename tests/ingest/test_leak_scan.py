"""The privacy tests' search (leak_scan) finds what ``number in text`` finds, and the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
from leak_scan import identifiers_in, leaks

KEY = "k" * 8 + "0123456789abcdef"


def test_same_answer_as_substring_search():
    rng = np.random.default_rng(3)
    numbers = [f"{9_400_000_000 + 7_919 * i}" for i in range(200)]
    spaced = [f"{n[:3]} {n[3:6]} {n[6:]}" for n in numbers[::3]]
    identifiers = numbers + spaced + ["AB-12", "AB-1"]
    pieces = ["x", " ", "\n", "0", "94", ",", "AB-12", "<td>"]
    pieces += list(rng.choice(identifiers, 40))
    pieces += [numbers[5] + numbers[6], "7" + numbers[9][:-1]]  # run-on and cut-off digits
    for trial in range(30):
        text = "".join(rng.choice(pieces, 60))
        expected = {i for i in identifiers if i in text}
        assert identifiers_in(text, identifiers) == expected, trial
    assert identifiers_in("ref 19400000000 x", ["9400000000"]) == {"9400000000"}
    assert identifiers_in("940000000", ["9400000000"]) == set()


def test_leaks_finds_key_and_parquet_values(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\x00" + KEY.encode() + b"\x01")
    assert leaks(tmp_path / "a.bin", ["9400000000"], KEY) == [KEY]
    pd.DataFrame({"n": ["9400000000", "9400007919"]}).to_parquet(tmp_path / "b.parquet")
    found = leaks(tmp_path / "b.parquet", ["9400007919", "9400015838"], KEY)
    assert found == ["9400007919"]
    (tmp_path / "c.html").write_text("<td>940 000 0000</td>", encoding="utf-8")
    assert leaks(tmp_path / "c.html", ["940 000 0000", "9400000000"], KEY) == ["940 000 0000"]
