"""Imports every sub-command module so that each registers itself on the app."""

from __future__ import annotations

from evaltk.cli import demo, run, schema, validate  # noqa: F401
