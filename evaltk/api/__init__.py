"""The Python API for notebooks: the objects and the run of the CLI, shown in Jupyter.

>>> import evaltk as ev                                      # doctest: +SKIP
>>> analysis = ev.load("analyses/my-force")                  # validated; shows a table
>>> res = ev.run(analysis)                                   # `evaltk run`, keeping the fits
>>> res                                                      # verdict, ledger, outcomes
>>> res.tidy()                                               # a DataFrame, a row per outcome
>>> res.outcome("s136_rate").plot()                          # a matplotlib Figure
>>> ev.read_results("analyses/my-force")                     # a folder already run

Everything here calls the same functions as the commands (``evaltk validate``, ``register``,
``run``, ``simulate``, ``book``): one code path, the same files written and the same checks.
"""

from evaltk.api.analysis import Analysis, load
from evaltk.api.results import OutcomeView, Results, read_results, run
from evaltk.api.tools import build_book, simulate_data
from evaltk.registration import register

__all__ = [
    "Analysis",
    "OutcomeView",
    "Results",
    "build_book",
    "load",
    "read_results",
    "register",
    "run",
    "simulate_data",
]
