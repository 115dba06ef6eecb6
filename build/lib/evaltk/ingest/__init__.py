"""Reading forces' and NHS analysts' own extracts: SPSS, Stata, SAS, Excel (and CSV/parquet).

:mod:`evaltk.ingest.readers` converts a file DuckDB cannot scan itself into parquet once (value
labels applied, only the columns a protocol needs, person identifiers pseudonymised) in
``ANALYSIS/.cache/``; :mod:`evaltk.ingest.checks` holds the data-quality thresholds;
:mod:`evaltk.ingest.describe` prints a data dictionary.
"""
