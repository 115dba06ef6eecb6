"""Pseudonymisation and cross-agency linkage.

:mod:`evaltk.linkage.keys` holds the linkage key (``EVALTK_LINK_KEY`` or a key file, never
written anywhere) and the keyed HMAC-SHA-256 that replaces person identifiers;
:mod:`evaltk.linkage.link` links police, ambulance and A&E extracts by pseudonym and time
window and reports linkage rates.
"""
