"""evaltk: pre-registered evaluation of street triage and control-room nurses.

``import evaltk as ev`` gives the notebook API (:mod:`evaltk.api`): ``ev.load``, ``ev.run``,
``ev.read_results``, ``ev.register``, ``ev.simulate_data``, ``ev.build_book``. They are
loaded on first use (PEP 562), so that ``import evaltk`` stays fast and every lower module
can read ``evaltk.__version__`` without importing the whole package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaltk.lazy_exports import lazy_exports

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

# By module name, not an import statement: the package root sits above every layer, and the
# API (top layer) is loaded only when a notebook asks for it.
__getattr__, __dir__ = lazy_exports(
    __name__, {name: "evaltk.api" for name in __all__ if name != "__version__"}
)
