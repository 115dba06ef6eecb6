"""The ``evaltk`` command line. Each sub-command lives in its own module and is registered here."""

from __future__ import annotations

from evaltk.cli.app import app

__all__ = ["app"]
