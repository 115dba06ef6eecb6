"""The ``auto`` inference rule, stated once for the DiD regressions and Callaway & Sant'Anna."""

from __future__ import annotations

from evaltk.estimators.did import InferenceSpec
from evaltk.estimators.did.inference import STAGGERED_AUTO, auto_method, choose_method


def test_auto_uses_the_wild_bootstrap_for_few_clusters_of_a_regression() -> None:
    method, reason = choose_method(InferenceSpec(), 5)
    assert method == "wild_bootstrap"
    assert reason == (
        "5 clusters, fewer than 50: cluster-robust t-tests over-reject with few clusters"
    )
    assert choose_method(InferenceSpec(), 50) == ("cluster", "50 clusters, at least 50")


def test_auto_uses_randomisation_for_few_units_of_callaway_santanna() -> None:
    method, reason = auto_method("auto", 5, rule=STAGGERED_AUTO)
    assert method == "randomization"
    assert reason.startswith("5 units, fewer than 50: influence-function")
    assert auto_method("auto", 60, rule=STAGGERED_AUTO) == ("cluster", "60 units, at least 50")


def test_a_named_method_is_used_as_asked() -> None:
    assert auto_method("wild_bootstrap", 5, rule=STAGGERED_AUTO) == (
        "wild_bootstrap",
        "as specified",
    )
