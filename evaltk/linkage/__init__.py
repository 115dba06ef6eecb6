"""Cross-agency linkage of pseudonymised extracts.

:mod:`evaltk.linkage.link` links police, ambulance and A&E extracts by pseudonym and time
window and reports linkage rates; :mod:`evaltk.linkage.pipeline` stages and pseudonymises
every extract (with :mod:`evaltk.ingest`, whose :mod:`~evaltk.ingest.pseudonyms` holds the
linkage key, never written anywhere) and writes the police file with its ``linked_<agency>``
flags that the measures read.
"""
