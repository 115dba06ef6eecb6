"""Imports every sub-command module so that each registers itself on the app."""

from __future__ import annotations

from evaltk.cli import (  # noqa: F401
    amend,
    book,
    data,
    demo,
    init,
    link,
    power,
    register,
    run,
    schema,
    simulate,
    validate,
    verify,
)
