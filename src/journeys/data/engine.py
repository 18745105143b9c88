"""The one place that knows which engine runs the analyses.

DuckDB, in process, is the default. Spark (through Ibis' PySpark backend) serves
users whose events outgrow one machine. Both are set to UTC so that timestamps mean
the same thing everywhere, and both keep progress bars and routine logging out of
the output: only errors are printed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend

from journeys.data.options import EngineName
from journeys.errors import OptionsError

ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")
# How a Spark started here on this machine logs: errors only, from its first line on
# (setting the level once the session runs leaves the start-up lines in the output).
SPARK_LOGGING = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""


def connect(
    engine: EngineName = "duckdb",
    *,
    database: str = ":memory:",
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    spark_master: str = "local[*]",
    spark_session: Any = None,
) -> BaseBackend:
    """Open a connection to the engine that runs the analyses.

    Parameters
    ----------
    engine
        ``"duckdb"`` (in process, the default) or ``"spark"``.
    database
        For DuckDB: a database file, or ``":memory:"``.
    memory_limit, temp_directory
        For DuckDB: how much memory it may use (``"8GB"``; default 80% of the machine's)
        and where it spills what does not fit (default ``.tmp`` in the working folder).
    spark_master
        For Spark: ``local[*]`` (the default) or a cluster such as ``spark://host:7077``.
    spark_session
        For Spark: an existing ``SparkSession`` to use instead of starting one.

    Examples
    --------
    >>> con = connect()
    >>> con.name
    'duckdb'
    """
    if engine == "duckdb":
        con = ibis.duckdb.connect(database)
        con.raw_sql("SET TimeZone = 'UTC'")
        con.raw_sql("SET enable_progress_bar = false")
        if memory_limit is not None:
            con.raw_sql(f"SET memory_limit = '{_setting(memory_limit)}'")
        if temp_directory is not None:
            con.raw_sql(f"SET temp_directory = '{_setting(temp_directory)}'")
        return con
    if engine == "spark":
        return _connect_spark(spark_master, spark_session)
    raise OptionsError(
        f"unknown engine '{engine}'", hint=f"choose one of {', '.join(ENGINES)}", code="engine"
    )


def _connect_spark(master: str, session: Any) -> BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise OptionsError(
            "the Spark engine needs pyspark, which is not installed",
            hint="install it with `pip install 'journeys[spark]'`",
            code="engine",
        ) from None
    if session is None:
        builder = (
            SparkSession.builder.master(master)
            .appName("journeys")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
        )
        if not master.startswith("local"):
            # A cluster's driver options are its administrators' to set.
            session = builder.getOrCreate()
        else:
            # Spark reads the logging settings once, as it starts: the file is then removed.
            with tempfile.TemporaryDirectory(prefix="journeys-spark-") as folder:
                settings = Path(folder) / "log4j2.properties"
                settings.write_text(SPARK_LOGGING)
                options = f"-Dlog4j2.configurationFile={settings.as_uri()}"
                session = builder.config("spark.driver.extraJavaOptions", options).getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def _setting(value: str) -> str:
    """A setting's value as a SQL string literal's content."""
    return value.replace("'", "''")
