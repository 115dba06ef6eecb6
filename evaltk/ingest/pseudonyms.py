"""The linkage key, and the keyed hash that replaces person identifiers.

A person identifier (NHS number, force person number) is replaced by
``HMAC-SHA-256(key, normalised identifier)`` as hex. Without the key nobody can recompute
the pseudonym from an identifier (unlike a plain hash, which anyone can brute-force over the
10^10 possible NHS numbers); with the same key, police, ambulance and A&E extracts give the
same pseudonym for the same person, so they can be linked without moving identities around.

The key comes from the environment variable ``EVALTK_LINK_KEY`` (the key itself, at least 16
characters) or from a key file (``--key-file PATH``, or its path in
``EVALTK_LINK_KEY_FILE``). It is held in memory only: it is never written to any output, log
or error message (messages name where it came from, never its value).

A column of identifiers is pseudonymised without a Python call per row
(:meth:`LinkKey.pseudonym_column`): the identifiers are normalised with pyarrow compute
(:func:`normalised_identifiers`), each distinct one is hashed once, and the HMAC itself runs in
DuckDB, which has SHA-256 but no HMAC: ``HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m))``
(RFC 2104) is spelled out over its ``sha256``/``unhex`` with the two padded keys bound as query
parameters, so they never appear in SQL text. The result is byte-identical to :mod:`hmac`
(tested on random identifiers).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaltk.errors import LinkKeyError
from evaltk.ingest.dictionary_text import dictionary_text

KEY_ENV = "EVALTK_LINK_KEY"
KEY_FILE_ENV = "EVALTK_LINK_KEY_FILE"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class LinkKey:
    """A linkage key. ``repr`` and ``str`` never show the secret."""

    secret: bytes = field(repr=False)
    origin: str  # where it came from, for messages ('EVALTK_LINK_KEY', 'key file k.txt')

    def __str__(self) -> str:
        return f"linkage key from {self.origin}"

    @property
    def fingerprint(self) -> str:
        """A short, one-way tag of the key (safe to store: it reveals nothing of the key).

        Used to tell staged files made under different keys apart, never to check a key.
        """
        return hmac.new(self.secret, b"evaltk key fingerprint", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, identifier: object) -> str | None:
        """The pseudonym of one identifier (``None`` for a missing one)."""
        text = normalise_identifier(identifier)
        if text is None:
            return None
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def pseudonyms(self, identifiers: Iterable[object]) -> list[str | None]:
        """Pseudonyms of many identifiers, in order."""
        secret = self.secret
        out: list[str | None] = []
        append = out.append
        new = hmac.new
        sha = hashlib.sha256
        for value in identifiers:
            text = normalise_identifier(value)
            append(None if text is None else new(secret, text.encode("utf-8"), sha).hexdigest())
        return out

    def pseudonym_column(
        self, values: pd.Series, memo: PseudonymMemo | None = None
    ) -> pa.DictionaryArray:
        """The pseudonyms of a column, equal to :meth:`pseudonyms` but with no per-row Python.

        Each distinct identifier is hashed once (a person usually has several episodes);
        with ``memo``, once for all the chunks of a file that share the memo. The result is
        a dictionary array (each distinct pseudonym once, a code per row).
        """
        if pd.api.types.is_float_dtype(values.dtype) or (
            pd.api.types.is_integer_dtype(values.dtype)
            and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
        ):
            # Numbers (SPSS stores NHS numbers as doubles): the distinct numbers are found
            # on the numbers themselves, cheaper than on their text; each is written as text
            # once (a missing number has code -1, so a null pseudonym).
            codes, distinct = pd.factorize(values.to_numpy(), use_na_sentinel=True)
            hashed = self._hashed(normalised_identifiers(pd.Series(distinct)), memo)
            return dictionary_text(hashed, codes)
        encoded = normalised_identifiers(values).dictionary_encode()
        hashed = self._hashed(encoded.dictionary, memo)
        # A null index (missing id) gives null.
        return dictionary_text(hashed, pc.fill_null(encoded.indices, -1).to_numpy())

    def _hashed(self, texts: pa.StringArray, memo: PseudonymMemo | None) -> pa.StringArray:
        if memo is None:
            return _hmac_sha256_hex(self.secret, texts)
        return memo.hashed_for(self.secret, texts)


class PseudonymMemo:
    """The pseudonyms already computed for a file's earlier chunks (normalised id -> HMAC).

    A person's episodes are spread over the whole file, so chunk by chunk most identifiers
    recur: looking them up (one hash-table probe) is cheaper than two SHA-256 per value.
    Held in memory only, for one file, like the key; never written.
    """

    def __init__(self) -> None:
        # Identifiers in the order first seen, one array per chunk (never concatenated, so
        # no chunk copies the whole memo), and their HMACs in the same order.
        self._ids: list[pa.StringArray] = []
        self.hashed = pa.array([], type=pa.string())

    @property
    def ids(self) -> pa.ChunkedArray:
        """The normalised identifiers hashed so far, in the order first seen."""
        return pa.chunked_array(self._ids, type=pa.string())

    def hashed_for(self, secret: bytes, texts: pa.StringArray) -> pa.StringArray:
        """HMAC-SHA-256 hex of each text (null for null), hashing only texts not seen before.

        ``texts`` are a chunk's distinct identifiers.
        """
        position = np.full(len(texts), -1, dtype=np.int64)  # in the memo, -1: not in it
        if self._ids:
            # The memo probes a hash table of this chunk's texts, rather than the texts one of
            # the memo: that table would be built again, ever larger, for every chunk.
            where = pc.fill_null(pc.index_in(self.ids, value_set=texts), -1).to_numpy()
            seen = where >= 0
            position[where[seen]] = np.flatnonzero(seen)
        missing = pc.is_null(texts).to_numpy(zero_copy_only=False)
        new = (position < 0) & ~missing
        if new.any():
            fresh = texts.filter(pa.array(new))
            position[new] = len(self.hashed) + np.arange(len(fresh))
            self._ids.append(fresh)
            self.hashed = pa.concat_arrays([self.hashed, _hmac_sha256_hex(secret, fresh)])
        return pc.take(self.hashed, pa.array(position, mask=missing))


_BLOCK = 64  # SHA-256's block size in bytes


def _hmac_sha256_hex(secret: bytes, messages: pa.StringArray) -> pa.StringArray:
    """HMAC-SHA-256 of each message (UTF-8) under ``secret``, as lower-case hex, in DuckDB."""
    if len(messages) == 0:
        return pa.array([], type=pa.string())
    padded = (hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret).ljust(
        _BLOCK, b"\0"
    )
    inner = bytes(b ^ 0x36 for b in padded)
    outer = bytes(b ^ 0x5C for b in padded)
    con = duckdb.connect()
    try:
        con.register("messages", pa.table({"m": messages}))
        # Projection only, so DuckDB keeps the rows in order (preserve_insertion_order).
        hashed = con.sql(
            "SELECT sha256($outer || unhex(sha256($inner || encode(m)))) AS h FROM messages",
            params={"inner": inner, "outer": outer},
        )
        assert hashed is not None
        column = hashed.to_arrow_table()["h"].combine_chunks()
    finally:
        con.close()
    return column.cast(pa.string())


def pseudonym_sql(column: str, inner: str = "$inner", outer: str = "$outer") -> str:
    """SQL (DuckDB's dialect, compiled for Spark by :mod:`evaltk.ingest.dialect`): the
    pseudonym of a text or integer identifier column, computed in the engine that holds it.

    It normalises as :func:`normalise_identifier` does for text and integers (ASCII
    whitespace removed, letters upper-cased, empty and ``NAN``/``NONE``/``<NA>`` missing;
    Unicode case and whitespace rules are Python's and are not reproduced, so an identifier
    holding non-ASCII text may differ) and takes HMAC-SHA-256 as
    :func:`_hmac_sha256_hex` does. The two padded keys (:func:`hmac_parameters`) are never
    SQL text: by default the query parameters ``$inner`` and ``$outer``; ``inner`` and
    ``outer`` may name columns instead (Spark: a one-row view joined in, whose bytes do not
    appear in the query plan either, as a bound parameter's would).
    """
    text = f"upper(regexp_replace(CAST({column} AS VARCHAR), '{_ASCII_SPACE}', '', 'g'))"
    missing = ", ".join(f"'{m}'" for m in ("", "NAN", "NONE", "<NA>"))
    return (
        f"CASE WHEN {text} IS NULL OR {text} IN ({missing}) THEN NULL "
        f"ELSE sha256({outer} || unhex(sha256({inner} || encode({text})))) END"
    )


def hmac_parameters(key: LinkKey) -> dict[str, bytes]:
    """The padded keys of HMAC (RFC 2104) that :func:`pseudonym_sql` binds."""
    secret = key.secret
    padded = (hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret).ljust(
        _BLOCK, b"\0"
    )
    return {
        "inner": bytes(b ^ 0x36 for b in padded),
        "outer": bytes(b ^ 0x5C for b in padded),
    }


def normalise_identifier(value: object) -> str | None:
    """The text an identifier is hashed as, the same whichever agency's file it comes from.

    Surrounding spaces and inner spaces are removed (``"943 476 5919"`` is ``"9434765919"``),
    letters are upper-cased, and a whole number stored as a float (SPSS, Excel) loses its
    ``.0``. Empty and missing values give ``None``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    text = "".join(str(value).split()).upper()
    if text in ("", "NAN", "NONE", "<NA>"):
        return None
    return text


# The ASCII characters Python's str.split() treats as whitespace (\x1c-\x1f among them).
_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
_MISSING_TEXTS = pa.array(["", "NAN", "NONE", "<NA>"])
_WHOLE_LIMIT = 2.0**63  # whole floats below this are exact as int64


def normalised_identifiers(values: pd.Series) -> pa.StringArray:
    """:func:`normalise_identifier` of every value, computed by column (pyarrow, numpy).

    Values the column-wise rules do not cover exactly (non-ASCII text, floats that are not
    whole, mixed or other types) go through :func:`normalise_identifier` one by one; a
    real extract has none or a handful of them.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # A few categories: normalise each once and index by the codes.
        categories = pa.array(
            [normalise_identifier(v) for v in dtype.categories.tolist()], type=pa.string()
        )
        codes = values.cat.codes.to_numpy()
        return pc.take(categories, pa.array(codes, mask=codes < 0))
    if pd.api.types.is_float_dtype(dtype):
        return _normalised_floats(values.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(values, from_pandas=True).cast(pa.string())
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return _one_by_one(values.tolist())
    if isinstance(dtype, pd.StringDtype):  # Arrow strings already
        return _normalised_text(pa.array(values, from_pandas=True).cast(pa.string()))
    objects = values.to_numpy(dtype=object)
    try:
        text = pa.array(objects, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # not all text: numbers, dates... among it
        return _one_by_one(objects.tolist())
    return _normalised_text(text)


def _one_by_one(values: list[Any]) -> pa.StringArray:
    return pa.array([normalise_identifier(v) for v in values], type=pa.string())


def _normalised_floats(numbers: np.ndarray) -> pa.StringArray:
    whole = np.isfinite(numbers) & (numbers == np.trunc(numbers)) & (abs(numbers) < _WHOLE_LIMIT)
    integers = np.where(whole, numbers, 0).astype(np.int64)
    text = pa.array(integers, mask=~whole).cast(pa.string())  # str(int(x)) for whole floats
    other = ~whole & ~np.isnan(numbers)  # inf, 1.5: as Python writes them
    if other.any():
        replaced = _one_by_one(numbers[other].tolist())
        text = pc.replace_with_mask(text, pa.array(other), replaced)
    return text


def _normalised_text(text: pa.StringArray) -> pa.StringArray:
    ascii_ = pc.fill_null(pc.string_is_ascii(text), True)
    result = pc.ascii_upper(pc.replace_substring_regex(text, _ASCII_SPACE, ""))
    if not pc.all(ascii_).as_py():
        # Unicode whitespace and case (e.g. 'ß' -> 'SS') as Python has them.
        others = pc.invert(ascii_)
        replaced = _one_by_one(pc.filter(text, others).to_pylist())
        result = pc.replace_with_mask(result, others, replaced)
    missing = pc.is_in(result, value_set=_MISSING_TEXTS)
    return pc.if_else(missing, pa.scalar(None, pa.string()), result)


def load_key(key_file: str | Path | None = None) -> LinkKey | None:
    """The linkage key from ``key_file``, else ``EVALTK_LINK_KEY_FILE``, else ``EVALTK_LINK_KEY``.

    Returns ``None`` when none is given. Raises :class:`~evaltk.errors.LinkKeyError` (a
    :class:`~evaltk.errors.DataError`) for a key file that is missing or unreadable, or a key
    shorter than 16 bytes.
    """
    path = key_file or os.environ.get(KEY_FILE_ENV) or None
    if path is not None:
        path = Path(path)
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise LinkKeyError(
                f"{path}: cannot read the linkage key file ({error.strerror or error}); "
                "check --key-file"
            ) from None
        return _checked(secret, f"key file {path.name}")
    value = os.environ.get(KEY_ENV)
    if value:
        return _checked(value.strip().encode("utf-8"), KEY_ENV)
    return None


def require_key(key_file: str | Path | None = None, why: str = "") -> LinkKey:
    """Like :func:`load_key`, but a missing key is a clear error."""
    key = load_key(key_file)
    if key is None:
        raise LinkKeyError(
            f"{why + ': ' if why else ''}no linkage key: set the environment variable "
            f"{KEY_ENV} (at least {MIN_KEY_BYTES} characters) or pass --key-file PATH; "
            "evaltk never uses raw person identifiers without pseudonymising them"
        )
    return key


def _checked(secret: bytes, origin: str) -> LinkKey:
    if len(secret) < MIN_KEY_BYTES:
        raise LinkKeyError(
            f"the linkage key from {origin} is too short ({len(secret)} bytes); use at least "
            f'{MIN_KEY_BYTES} random characters, e.g. from `python -c "import secrets; '
            'print(secrets.token_hex(32))"`'
        )
    return LinkKey(secret, origin)
