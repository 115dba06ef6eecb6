"""From a file to a relation DuckDB can scan: forces' and NHS analysts' own extracts.

* :mod:`evaltk.ingest.readers` converts a file DuckDB cannot scan itself (SPSS, Stata, SAS,
  Excel) into parquet once (value labels applied, only the columns a protocol needs, person
  identifiers pseudonymised) in ``ANALYSIS/.cache/``;
* :mod:`evaltk.ingest.pseudonyms` holds the linkage key and the keyed HMAC-SHA-256 that
  replaces person identifiers;
* :mod:`evaltk.ingest.source` locates an extract, reads its column types, stages it if need
  be and maps its columns onto canonical fields; :mod:`evaltk.ingest.field_sql` writes each
  field's canonical value as SQL;
* :mod:`evaltk.ingest.engine` sets up the DuckDB connection, :mod:`evaltk.ingest.sql` quotes
  identifiers and values;
* :mod:`evaltk.ingest.describe` prints a data dictionary.

Nothing here knows about outcomes or linkage; :mod:`evaltk.measures` and
:mod:`evaltk.linkage` build on it.
"""
