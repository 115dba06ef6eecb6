"""Python's cycle collector in evaltk's own processes: the ``evaltk`` command, the analysis
workers of ``evaltk demo`` and the Jupyter Book child.

The collector walks every object it tracks in each full collection. After importing the
scientific stack (or Sphinx) a process holds a few hundred thousand such objects that live as
long as it does, and the collections that drawing figures or building doctrees set off kept
walking them: about a tenth of an analysis's CPU time and a third of the book build's
(measured on the demo's street-triage analysis and its book); while the modules were
imported, a fifth of the import time. Three settings, for evaltk's own processes only, never
for a caller's (a notebook's objects are the caller's to manage):

* :func:`paused`: nothing is collected while a block runs (imports: what they make lives as
  long as the process, so there is nothing to find);
* :func:`set_aside_loaded`: what exists now is moved out of the collector's sight
  (``gc.freeze``, which moves whole lists and touches no object). In a forked worker, done
  first, it also keeps the worker's collections from writing to the pages it shares with
  its parent (which would copy them), as Python's documentation of ``gc.freeze`` advises;
* :func:`collect_less_often`: the youngest generation is collected after 10,000 new objects
  instead of 700, the middle one after 100 of those collections instead of 10, the oldest as
  Python does (after 10 of the middle one's). Short-lived cycles (docutils nodes point at
  their parents; matplotlib artists at their figure) are kept a little longer: the demo's
  book build peaked about 20 MB higher (138 to 159 MB), the street-triage analysis about
  20 MB (378 to 396 MB).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Thresholds of :func:`gc.set_threshold` for :func:`collect_less_often` (Python's: 700, 10, 10).
FEWER_COLLECTIONS = (10_000, 100, 10)


@contextmanager
def paused() -> Iterator[None]:
    """Collect nothing inside the ``with`` block; the collector is as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def set_aside_loaded() -> None:
    """Exclude every object that exists now from all later collections (``gc.freeze``)."""
    gc.freeze()


def collect_less_often() -> None:
    """Collect each generation less often (:data:`FEWER_COLLECTIONS`)."""
    gc.set_threshold(*FEWER_COLLECTIONS)
