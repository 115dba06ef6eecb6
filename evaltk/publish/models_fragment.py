"""The methods page's list of the book's analyses and their models, from the model description.

``methods.md`` explains the models in general; this fragment (``_fragments/models.md``, which it
``{include}``\\ s) says which model each analysis of this book registered, in the very sentence
of its pre-registration page, and which model its results report, in their own ``estimator``
words: both come from :mod:`evaltk.protocol.model_description`, so the three cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol
from evaltk.publish.generated import MD_MARKER, check_replaceable
from evaltk.publish.load import LoadedAnalysis
from evaltk.publish.render import render

FRAGMENT = Path("_fragments") / "models.md"


def models_context(analyses: Sequence[LoadedAnalysis]) -> list[dict[str, object]]:
    """For each analysis: its title, the registered plan's model sentence, the results' words."""
    out: list[dict[str, object]] = []
    for analysis in analyses:
        log = analysis.registration
        plan = (
            describe_model(Protocol.model_validate(log.head.protocol)).plan
            if log is not None
            else None
        )
        estimators = list(dict.fromkeys(o.estimator for o in analysis.result.outcomes))
        out.append({"title": analysis.result.title, "plan": plan, "estimators": estimators})
    return out


def write_models_fragment(book_dir: Path, analyses: Sequence[LoadedAnalysis]) -> Path:
    """Write ``_fragments/models.md`` (never over a hand-written file)."""
    path = book_dir / FRAGMENT
    check_replaceable(path, MD_MARKER)
    path.parent.mkdir(exist_ok=True)
    path.write_text(render("models_fragment.md.j2", analyses=models_context(analyses)), "utf-8")
    return path
