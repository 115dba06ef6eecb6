"""evaltk: pre-registered evaluation of street triage and control-room nurses.

``import evaltk as ev`` gives the notebook API (:mod:`evaltk.api`): ``ev.load``, ``ev.run``,
``ev.read_results``, ``ev.register``, ``ev.simulate_data``, ``ev.build_book``. They are
loaded on first use (PEP 562), so that ``import evaltk`` stays fast and every lower module
can read ``evaltk.__version__`` without importing the whole package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from evaltk.api import (
        Analysis,
        OutcomeView,
        Results,
        build_book,
        load,
        read_results,
        register,
        run,
        simulate_data,
    )

__all__ = [
    "Analysis",
    "OutcomeView",
    "Results",
    "__version__",
    "build_book",
    "load",
    "read_results",
    "register",
    "run",
    "simulate_data",
]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        # By name, not an import statement: the package root sits above every layer, and the
        # API (top layer) is loaded only when a notebook asks for it.
        return getattr(importlib.import_module("evaltk.api"), name)
    raise AttributeError(f"module 'evaltk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
