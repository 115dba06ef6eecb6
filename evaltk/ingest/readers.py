"""Stage SPSS, Stata, SAS and Excel files (and CSV/parquet holding raw identifiers) as parquet.

DuckDB streams CSV and parquet itself. Every other format is converted once, in chunks (so a
5-million-row ``.sav`` never sits whole in memory), to a parquet file in the analysis's
``.cache/`` folder, named by the SHA-256 of the source file and of the staging options (the
columns kept, the encoding, and the linkage key's fingerprint, never the key). A second run
on the same file reuses it. Only the columns the protocol needs are kept, and when the
protocol says ``identifiers: raw`` the person identifier is replaced by its keyed pseudonym
before anything is written, so no staged file holds a raw identifier.

Value labels are applied (an SPSS ``1 = "Yes"`` arrives as ``"Yes"``, to be mapped by
``data.codes``); SPSS/Stata/SAS dates and date-times arrive as timestamps. Columns are typed
from the file's metadata: labelled or string columns as text, date-times as timestamps,
everything else as double.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaltk.digest import file_sha256
from evaltk.errors import DataError
from evaltk.ingest import readstat_values
from evaltk.ingest.dictionary_text import dictionary_text
from evaltk.ingest.pseudonyms import LinkKey, PseudonymMemo
from evaltk.ingest.readstat_values import Labelled

STAGED_FORMATS = ("sav", "dta", "sas7bdat", "xpt", "xlsx")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xpt",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
FORMAT_NAMES = {
    "csv": "CSV",
    "parquet": "parquet",
    "sav": "SPSS",
    "dta": "Stata",
    "sas7bdat": "SAS",
    "xpt": "SAS transport",
    "xlsx": "Excel",
}
CACHE_DIR = ".cache"
CHUNK_ROWS = 500_000
_STAGING_VERSION = 1  # bump when the staged form changes, so old cache files are not reused


def format_from_extension(path: Path) -> str | None:
    """The format named by the file's extension, or ``None``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-2:] == [".csv", ".gz"]:
        return "csv"
    return EXTENSIONS.get(suffixes[-1]) if suffixes else None


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Column:
    """One column of a file, as the data dictionary and the column mapping see it."""

    name: str
    kind: str  # 'text' | 'number' | 'timestamp'
    label: str = ""
    value_labels: dict[str, str] | None = None


def _readstat_reader(fmt: str) -> Any:
    import pyreadstat

    return {
        "sav": pyreadstat.read_sav,
        "dta": pyreadstat.read_dta,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "xpt": pyreadstat.read_xport,
    }[fmt]


def _readstat_error(path: Path, fmt: str, error: BaseException) -> DataError:
    text = " ".join(str(error).split()) or type(error).__name__
    if len(text) > 200:
        text = text[:197] + "..."
    hint = (
        "set data.encoding (e.g. 'latin-1' or 'cp1252')"
        if isinstance(error, UnicodeError) or "encod" in text.lower() or "iconv" in text.lower()
        else f"check that the file is complete (re-export it) and really {FORMAT_NAMES[fmt]}"
    )
    return DataError(f"{path}: cannot read it as {FORMAT_NAMES[fmt]} ({text}); {hint}")


def _encoding_kw(fmt: str, encoding: str | None) -> dict[str, Any]:
    if not encoding:
        return {}
    return {"encoding": encoding}


def read_columns(path: Path, fmt: str, *, encoding: str | None = None, sheet: str | None = None):
    """The columns of a staged-format file, from its metadata only (no rows are read)."""
    if fmt == "xlsx":
        return _excel_columns(path, sheet)
    reader = _readstat_reader(fmt)
    try:
        _, meta = reader(str(path), metadataonly=True, **_encoding_kw(fmt, encoding))
    except Exception as error:  # pyreadstat raises several types for broken files
        raise _readstat_error(path, fmt, error) from None
    labels = meta.column_names_to_labels or {}
    value_labels = meta.variable_value_labels or {}
    types = meta.readstat_variable_types or {}
    formats = meta.original_variable_types or {}
    columns = []
    for name in meta.column_names:
        if name in value_labels or types.get(name) == "string":
            kind = "text"
        elif _is_date_format(formats.get(name) or ""):  # SAS: None for no format
            kind = "timestamp"
        else:
            kind = "number"
        vl = value_labels.get(name)
        columns.append(
            Column(
                name,
                kind,
                labels.get(name) or "",
                {_label_key(k): str(v) for k, v in vl.items()} if vl else None,
            )
        )
    return columns


def _label_key(key: Any) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _is_date_format(fmt: str) -> bool:
    f = fmt.upper().lstrip("%")
    return any(
        f.startswith(p)
        for p in ("DATE", "DATETIME", "ADATE", "EDATE", "SDATE", "JDATE", "TC", "TD", "E8601",
                  "DDMMYY", "MMDDYY", "YYMMDD", "DTDATE", "B8601", "DT")
    )  # fmt: skip


def _excel_columns(path: Path, sheet: str | None) -> list[Column]:
    frame = _read_excel(path, sheet, nrows=50)
    return [Column(str(c), _kind(frame[c])) for c in frame.columns]


def _read_excel(path: Path, sheet: str | None, nrows: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl", nrows=nrows)
    except (ValueError, KeyError) as error:
        text = " ".join(str(error).split())
        if (sheet and "not found" in text.lower()) or "worksheet" in text.lower():
            raise DataError(f"{path}: {text}; set data.sheet to one of its worksheets") from None
        raise DataError(f"{path}: cannot read it as Excel ({text[:200]})") from None
    except Exception as error:  # zipfile.BadZipFile, openpyxl errors on a broken workbook
        text = " ".join(str(error).split()) or type(error).__name__
        raise DataError(
            f"{path}: cannot read it as Excel .xlsx ({text[:200]}); check that the file is "
            "complete and saved as .xlsx (not .xls or CSV renamed)"
        ) from None


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "timestamp"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "number"
    if pd.api.types.is_bool_dtype(series):
        return "number"
    return "text"


# --------------------------------------------------------------------------- chunks


def _chunks(
    path: Path,
    fmt: str,
    columns: Sequence[str],
    encoding: str | None,
    sheet: str | None,
    *,
    by_column: bool = False,
) -> Iterator[pd.DataFrame | dict[str, pd.Series | Labelled]]:
    """The file's ``columns``, chunk by chunk, as pandas frames.

    ``by_column``: SPSS/Stata/SAS value labels and dates are decoded by
    :mod:`evaltk.ingest.readstat_values` (a labelled column comes as a
    :class:`~evaltk.ingest.readstat_values.Labelled`), not value by value by pyreadstat.
    """
    if fmt == "xlsx":
        frame = _read_excel(path, sheet)
        missing = [c for c in columns if c not in frame.columns.astype(str)]
        if missing:
            raise DataError(f"{path}: columns {', '.join(missing)} not found")
        frame.columns = frame.columns.astype(str)
        for start in range(0, max(len(frame), 1), CHUNK_ROWS):
            yield frame.loc[:, list(columns)].iloc[start : start + CHUNK_ROWS]
        return
    if fmt == "csv":
        try:
            reader = pd.read_csv(
                path,
                usecols=list(columns),
                dtype=str,
                keep_default_na=False,
                na_values=["", "NA"],
                encoding=encoding or "utf-8",
                chunksize=CHUNK_ROWS,
            )
            yield from reader
        except (UnicodeError, ValueError, pd.errors.ParserError) as error:
            text = " ".join(str(error).split())[:200]
            raise DataError(
                f"{path}: cannot read it as CSV in {encoding or 'UTF-8'} ({text}); "
                "set data.encoding if the file is not UTF-8"
            ) from None
        return
    if fmt == "parquet":
        try:
            handle = pq.ParquetFile(path)
            for batch in handle.iter_batches(batch_size=CHUNK_ROWS, columns=list(columns)):
                yield batch.to_pandas()
        except (pa.ArrowException, OSError) as error:
            raise DataError(f"{path}: cannot read it as parquet ({error})") from None
        return
    import pyreadstat

    reader = _readstat_reader(fmt)
    try:
        decoding = None
        if by_column:
            _, meta = reader(str(path), metadataonly=True, **_encoding_kw(fmt, encoding))
            decoding = readstat_values.plan(fmt, meta, list(columns))
        # Raw codes and date numbers, decoded by column (readstat_values), unless the file
        # has something only pyreadstat converts (a time of day).
        options: dict[str, Any] = (
            {"apply_value_formats": False, "disable_datetime_conversion": True}
            if decoding is not None
            else {
                "apply_value_formats": True,
                "formats_as_category": False,
                "dates_as_pandas_datetime": True,
            }
        )
        if fmt in ("sas7bdat", "xpt"):  # no value labels without a catalog: no such option
            options.pop("apply_value_formats")
            options.pop("formats_as_category", None)
        chunks = pyreadstat.read_file_in_chunks(
            reader,
            str(path),
            chunksize=CHUNK_ROWS,
            usecols=list(columns),
            **options,
            **_encoding_kw(fmt, encoding),
        )
        first_row = 1
        for frame, _meta in chunks:
            if decoding is None:
                yield frame
            else:
                yield readstat_values.decode(frame, decoding, path, first_row)
            first_row += len(frame)
    except DataError:
        raise
    except Exception as error:  # pyreadstat raises several types for broken files
        raise _readstat_error(path, fmt, error) from None


def _text_of(value: Any) -> str | None:
    """The text a value is staged as (one value; :func:`_as_text` does a column at once)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    text = str(value).strip()
    return text or None  # SPSS and Stata store a missing string as empty


# The ASCII characters Python's str.strip() removes (\x1c-\x1f among them).
_ASCII_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_WHOLE_LIMIT = 2.0**63  # whole floats below this are exact as int64
_SAMPLE_ROWS = 4096


def _as_text(series: pd.Series) -> pa.Array:
    """:func:`_text_of` of every value, by column (pyarrow compute, numpy) where it is exact.

    Values the column-wise rules do not cover exactly (non-ASCII text, floats that are not
    whole, mixed types) go through :func:`_text_of` one by one; an extract has few or none.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # Value labels: a few categories, each converted once, indexed by the codes.
        categories = pa.array([_text_of(v) for v in dtype.categories.tolist()], pa.string())
        return dictionary_text(categories, series.cat.codes.to_numpy())
    if pd.api.types.is_numeric_dtype(dtype):
        # Numbers (flags too) are written as floats are: True is "1", 3 is "3".
        return _float_text(series.to_numpy(dtype=float, na_value=np.nan))
    if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)):
        return _one_by_one(series.astype(object).tolist())
    if isinstance(dtype, pd.StringDtype):
        # pandas' string dtype holds Arrow strings already: no detour through Python objects.
        text = pa.array(series, from_pandas=True).cast(pa.string())
    else:
        objects = series.to_numpy(dtype=object)
        try:
            text = pa.array(objects, type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers or dates among the text
            return _one_by_one(objects.tolist())
    # Few distinct values in a sample of the chunk: hash the whole column (else skip it: an
    # identifier column would be hashed for nothing).
    sample = text.slice(0, _SAMPLE_ROWS).dictionary_encode()
    encoded = text.dictionary_encode() if len(sample.dictionary) * 2 < len(sample) else None
    if encoded is not None and len(encoded.dictionary) * 2 < len(text):
        # Codes and labels: trim each distinct value once (nulls keep a null index).
        codes = pc.fill_null(encoded.indices, -1).to_numpy()
        return dictionary_text(_trimmed(encoded.dictionary), codes)
    return _trimmed(text)


def _trimmed(text: pa.StringArray) -> pa.StringArray:
    """``str.strip()`` of each value, empty as missing (:func:`_text_of` for text)."""
    ascii_ = pc.fill_null(pc.string_is_ascii(text), True)
    result = pc.ascii_trim(text, characters=_ASCII_SPACE)  # no regex: a fixed set, both ends
    if not pc.all(ascii_).as_py():
        others = pc.invert(ascii_)  # Unicode spaces as Python strips them
        result = pc.replace_with_mask(
            result, others, _one_by_one(pc.filter(text, others).to_pylist())
        )
    return pc.if_else(pc.equal(result, ""), pa.scalar(None, pa.string()), result)


def _labelled_text(column: Labelled) -> pa.Array:
    """:func:`_text_of` of each label (or unlabelled value), once per distinct value."""
    texts = pa.array([_text_of(v) for v in column.uniques], type=pa.string())
    return dictionary_text(texts, column.codes)


def _one_by_one(values: list[Any]) -> pa.Array:
    return pa.array([_text_of(v) for v in values], type=pa.string())


def _float_text(numbers: np.ndarray) -> pa.Array:
    whole = np.isfinite(numbers) & (numbers == np.trunc(numbers)) & (abs(numbers) < _WHOLE_LIMIT)
    text = pa.array(np.where(whole, numbers, 0).astype(np.int64), mask=~whole).cast(pa.string())
    other = ~whole & ~np.isnan(numbers)  # inf, 1.5: as Python writes them
    if other.any():
        text = pc.replace_with_mask(text, pa.array(other), _one_by_one(numbers[other].tolist()))
    return text


def _as_kind(series: pd.Series, kind: str, path: Path) -> pa.Array:
    if kind == "text":
        return _as_text(series)
    if kind == "timestamp":
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series
        else:
            values = pd.to_datetime(series, errors="coerce")
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("Europe/London").dt.tz_localize(None)
        return pa.array(values.astype("datetime64[us]"), type=pa.timestamp("us"))
    numbers = pd.to_numeric(series, errors="coerce")
    if int(numbers.isna().sum()) > int(series.isna().sum()):
        # A number column turned text in a later chunk: keep every value, as text.
        raise _Retype
    return pa.array(numbers.astype(float), type=pa.float64())


class _Retype(Exception):
    pass


# --------------------------------------------------------------------------- staging


def stage(
    path: Path,
    fmt: str,
    columns: Sequence[str],
    cache_dir: Path,
    *,
    kinds: dict[str, str] | None = None,
    person_column: str | None = None,
    key: LinkKey | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Path:
    """Convert ``columns`` of ``path`` to parquet in ``cache_dir``; return the parquet path.

    ``person_column``, when given with ``key``, is replaced by its keyed pseudonyms.
    ``kinds`` fixes a column's type (``text``, ``number``, ``timestamp``); by default it is
    taken from the first chunk. The file is written under a temporary name and renamed when
    complete, so an interrupted conversion never leaves a partial cache file.
    """
    columns = list(dict.fromkeys(columns))
    options = {
        "v": _STAGING_VERSION,
        "format": fmt,
        "columns": columns,
        "person": person_column if key is not None else None,
        "key": key.fingerprint if key is not None else None,
        "encoding": encoding,
        "sheet": sheet,
    }
    tag = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]
    target = cache_dir / f"{file_sha256(path)[:24]}-{tag}.parquet"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    ignore = cache_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# evaltk staging cache: converted extracts, never commit\n*\n")
    fd, temp_name = tempfile.mkstemp(prefix=".staging-", suffix=".parquet", dir=cache_dir)
    os.close(fd)
    temp = Path(temp_name)
    try:
        _write(path, fmt, columns, temp, dict(kinds or {}), person_column, key, encoding, sheet)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def _write(
    path: Path,
    fmt: str,
    columns: list[str],
    temp: Path,
    kinds: dict[str, str],
    person_column: str | None,
    key: LinkKey | None,
    encoding: str | None,
    sheet: str | None,
) -> None:
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    memo = PseudonymMemo()  # each person hashed once per file, not once per chunk
    try:
        for chunk in _chunks(path, fmt, columns, encoding, sheet, by_column=True):
            arrays = []
            for name in columns:
                series = chunk[name]
                pseudonymise = name == person_column and key is not None
                if isinstance(series, Labelled):
                    if not pseudonymise and kinds.setdefault(name, "text") == "text":
                        arrays.append(_labelled_text(series))
                        continue
                    series = series.values()
                if pseudonymise:
                    assert key is not None
                    arrays.append(key.pseudonym_column(series, memo))
                    continue
                kind = kinds.setdefault(name, _kind(series))
                try:
                    arrays.append(_as_kind(series, kind, path))
                except _Retype:
                    if writer is not None:
                        raise DataError(
                            f"{path}: column '{name}' holds numbers and then text; give the "
                            "column one type in the file"
                        ) from None
                    kinds[name] = "text"
                    arrays.append(_as_text(series))
            table = pa.Table.from_arrays([_for_parquet(a) for a in arrays], names=columns)
            if writer is None:
                schema = table.schema
                writer = _staging_writer(temp, schema)
            elif table.schema != schema:
                table = table.cast(schema)
            writer.write_table(table)
        if writer is None:  # no chunk at all: an empty file still has its columns
            schema = pa.schema([(c, pa.string()) for c in columns])
            writer = pq.ParquetWriter(temp, schema)
    finally:
        if writer is not None:
            writer.close()


# The parquet writer's own dictionary page limit (1 MiB): beyond it, it writes text plain.
_DICTIONARY_BYTES = 1024**2


def _for_parquet(array: pa.Array) -> pa.Array:
    """``array``, or its plain text when it is a dictionary too large to be worth one.

    Labels and codes (a handful of values) are written as their dictionary; pseudonyms (one
    per person, hundreds of thousands a chunk) as plain text, as the writer does for plain
    text past its dictionary page limit: DuckDB scans such a huge dictionary more slowly
    and with more memory than plain text.
    """
    if pa.types.is_dictionary(array.type) and array.dictionary.nbytes > _DICTIONARY_BYTES:
        return array.dictionary_decode()
    return array


def _staging_writer(temp: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A parquet writer for the staging cache (a local file, scanned by the engine)."""
    # Min/max statistics only for dates and numbers, where a scan may skip row groups by
    # them (the window): on text (pseudonyms, episode ids, labels) they are a third of the
    # writing time and skip nothing in an unsorted extract. No Arrow schema in the file, so
    # the columns handed on as dictionaries (labels, codes, pseudonyms) read back as text.
    with_statistics = [
        field.name
        for field in schema
        if not (pa.types.is_dictionary(field.type) or pa.types.is_string(field.type))
    ]
    return pq.ParquetWriter(
        temp, schema, compression="zstd", store_schema=False, write_statistics=with_statistics
    )
