"""Imports every sub-command module so that each registers itself on the app."""

from __future__ import annotations

from evaltk.cli import book, demo, run, schema, validate  # noqa: F401
from evaltk.cli import simulate  # noqa: F401
