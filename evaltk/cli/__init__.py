"""The ``evaltk`` command line. Each sub-command lives in its own module and adds itself to
:data:`app` when imported; importing this package imports them all (``commands``), so that
``evaltk.cli:app`` (the console script) and ``from evaltk.cli import app`` have every command.
"""

from __future__ import annotations

from evaltk.cli import commands  # noqa: F401  (each command module registers itself on app)
from evaltk.cli.app import app

__all__ = ["app"]
