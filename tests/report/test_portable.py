"""A report travels: it shows no folder of the machine that made it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from journeys.cli import main
from tests.conftest import SIMPLE_SHOP

SPEC = Path(__file__).parents[2] / "docs" / "examples" / "shop.yaml"


def test_the_report_names_the_data_file_not_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "acme-client-files" / "q3"
    folder.mkdir(parents=True)
    events = folder / "shop.csv"
    shutil.copy(SIMPLE_SHOP, events)
    output = tmp_path / "report.html"
    code = main(["report", str(SPEC), "--events", str(events.resolve()), "--out", str(output)])
    assert code == 0, capsys.readouterr().err
    page = output.read_text(encoding="utf-8")
    assert "shop.csv" in page
    assert str(folder) not in page
    assert "acme-client-files" not in page
    assert str(tmp_path) not in page
