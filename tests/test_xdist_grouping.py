"""`make test` runs pytest-xdist with ``--dist loadgroup`` so that the tests marked
``xdist_group("spark")`` share one worker and so one Spark session (one JVM, not two at
once on two cores). pytest 9.2 with pytest-xdist 3.8 silently stopped grouping
(pytest-dev/pytest-xdist#1386), hence pytest is pinned below 9.2 in pyproject.toml; this
test fails if a dependency update brings the silent ungrouping back."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("grouping-check")
def test_xdist_keeps_the_grouped_tests_on_one_worker(request: pytest.FixtureRequest) -> None:
    config = request.config
    # In a worker, xdist turns --dist loadgroup into its own "loadgroup" option.
    if not hasattr(config, "workerinput") or not getattr(config.option, "loadgroup", False):
        pytest.skip("checks pytest-xdist's --dist loadgroup, as `make test` runs it")
    # xdist marks a grouped test by its node id's suffix, which its scheduler reads.
    assert request.node.nodeid.endswith("@grouping-check"), request.node.nodeid
