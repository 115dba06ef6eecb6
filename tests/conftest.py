"""Shared fixtures: paths to the project and to ../shared/reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples in every run (`make test` and CI alike), and keep no
# database of earlier failures: a run never passes or fails by the luck of its draw, and a
# failure is reproduced by running the test again. A failing example found is added to its
# test with @example (tests/publish/test_disclosure_property.py has two).
settings.register_profile("evaltk", derandomize=True, database=None)
settings.load_profile("evaltk")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / ".." / "shared" / "reference").resolve()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (../shared beside the checkout)")
    return REFERENCE


# -- notebooks ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def execute_notebook():
    """``execute(notebook, cwd)``: run a notebook (nbformat) in a fresh IPython kernel of this
    interpreter without ipywidgets, as scripts/execute_notebook.py does for the book."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "execute_notebook", ROOT / "scripts" / "execute_notebook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.execute


# -- Spark -------------------------------------------------------------------------------------
def _require_spark() -> None:
    """Skip without pyspark or Java (fail under CI=true, where `make test` installs both)."""
    import importlib.util
    import os
    import shutil

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install -e '.[dev]' installs it)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("a Java runtime (Debian: openjdk-17-jre-headless, scripts/system-deps.sh)")
    if not missing:
        return
    message = f"the Spark engine tests need {' and '.join(missing)}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI=true: these tests must run in CI, not be skipped)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (``local[2]``) for the whole test session, serving Spark
    Connect on a free port as well (its address in ``spark.conf.get('evaltk.test.remote')``),
    so that the classic and the Connect paths share one JVM. Stopped at the end."""
    _require_spark()
    import socket

    from pyspark.sql import SparkSession

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = (
        SparkSession.builder.master("local[2]")
        .appName("evaltk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Small test tables: a few shuffle partitions, not Spark's 200.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        # A short-lived JVM on 2 cores: the C1 compiler alone (no C2 recompiling the hot
        # planner code) and the serial collector halve the Spark tests' CPU (35 s -> 16 s
        # for the first linkage, measured); the queries and their results are unchanged.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
        .config("spark.connect.grpc.binding.address", "127.0.0.1")
        .config("spark.connect.grpc.binding.port", str(port))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("evaltk.test.remote", f"sc://127.0.0.1:{port}")
    yield session
    # The Connect session the tests' evaltk calls opened (getOrCreate keeps it as the
    # default), stopped while its server still runs: left open, its client retried the
    # release for about 10 minutes at interpreter exit, after the server had gone.
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    connect = ConnectSession._get_default_session()
    if connect is not None:
        connect.stop()
    session.stop()
