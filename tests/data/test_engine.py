"""The engine connection: DuckDB's memory limit and spill folder are the user's to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys.data.engine import connect
from journeys.errors import OptionsError


def test_duckdb_memory_limit_and_spill_folder(tmp_path: Path) -> None:
    con = connect("duckdb", memory_limit="512MB", temp_directory=str(tmp_path / "spill"))
    settings = con.raw_sql(
        "select current_setting('memory_limit'), current_setting('temp_directory'), "
        "current_setting('TimeZone')"
    ).fetchone()
    assert settings is not None
    limit, folder, zone = settings
    assert limit in ("488.2 MiB", "512.0 MB")
    assert folder == str(tmp_path / "spill")
    assert zone == "UTC"


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(OptionsError, match="unknown engine 'postgres'"):
        connect("postgres")  # type: ignore[arg-type]
