"""A text column as distinct values and a code per row (an Arrow dictionary array).

Labels, codes and pseudonyms are converted once per distinct value; handing them on as a
dictionary array, rather than expanding them to one string per row with ``take``, saves the
copy, and lets the parquet writer store the dictionary as it is instead of hashing every row's
string again to build its own. Read back (pyarrow or DuckDB), the column is plain text with
the same values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def dictionary_text(values: pa.StringArray, codes: np.ndarray) -> pa.DictionaryArray:
    """Row ``i`` is ``values[codes[i]]``; a negative code or a null value gives null.

    Null values are dropped from the dictionary (their rows get a null code instead), since
    the parquet writer does not accept a dictionary holding a null.
    """
    codes = np.asarray(codes)
    valid = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if valid.all():
        kept, renumbered = values, codes
        missing = codes < 0
    else:
        kept = values.filter(pa.array(valid))
        new_code = np.cumsum(valid, dtype=np.int64) - 1  # old position -> position in kept
        inside = codes >= 0
        safe = np.where(inside, codes, 0)
        missing = ~inside | ~valid[safe]
        renumbered = new_code[safe]
    indices = pa.array(np.where(missing, 0, renumbered).astype(np.int32), mask=missing)
    return pa.DictionaryArray.from_arrays(indices, kept.cast(pa.string()))
