"""The demo report opened in a real browser (Debian's chromium through Playwright).

The page must draw every figure with the embedded plotly.js, log no error, ask the
network for nothing, and show the numbers of the analyses it reports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from journeys.analyses.kpis import kpis
from journeys.analyses.registry import report_sections
from journeys.data.engine import connect
from journeys.data.mapping import apply_spec
from journeys.data.reader import read_events
from journeys.demo import write_demo
from journeys.loading import load
from journeys.report import write_report
from journeys.spec import parse_spec
from tests.conftest import event_table
from tests.report.test_escaping import HOSTILE, SCRIPT, hostile_events, hostile_spec_text

CHROMIUM = Path("/usr/bin/chromium")
ALL_DRAWN = """() => {
  const figures = Array.from(document.querySelectorAll('.plotly-graph-div'));
  return figures.length > 0 && figures.every(figure => figure.querySelector('.main-svg'));
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = "needs Debian's chromium: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


class Visit:
    """A page opened from a file, with what it logged, asked for and showed in dialogs."""

    def __init__(self, browser: Browser, path: Path, width: int = 1280) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page: Page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.route("**/*", self._only_files)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.wait_for_function(ALL_DRAWN, timeout=60_000)

    def _only_files(self, route: Route, request: Request) -> None:
        if request.url.startswith("file:"):
            route.continue_()
            return
        self.requests.append(request.url)
        route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def texts(self, selector: str) -> list[str]:
        return [text.strip() for text in self.page.locator(selector).all_inner_texts()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    files = write_demo(folder, customers=1000, seed=3)
    target = folder / "report.html"
    write_report(load(spec=files.spec), target)
    return files.spec, target


@pytest.fixture(scope="module")
def visit(browser: Browser, demo: tuple[Path, Path]) -> Iterator[Visit]:
    opened = Visit(browser, demo[1])
    yield opened
    opened.page.close()


def test_the_page_logs_no_error_and_asks_the_network_for_nothing(visit: Visit) -> None:
    assert visit.errors == []
    assert visit.requests == []
    assert visit.dialogs == []


def test_every_figure_is_drawn(visit: Visit) -> None:
    figures = visit.page.locator(".plotly-graph-div")
    count = figures.count()
    assert count >= 10
    drawn = visit.page.locator(".plotly-graph-div .main-svg").count()
    # plotly draws two layers (.main-svg) per figure: the plot and its hover layer
    assert drawn >= count
    for index in range(count):
        assert figures.nth(index).locator(".main-svg").count() > 0, index
        assert figures.nth(index).bounding_box()["height"] > 100, index  # type: ignore[index]


def test_the_sections_are_there_in_reading_order(visit: Visit) -> None:
    expected = [section.title for _, section in report_sections()] + ["Data"]
    assert visit.texts("main section > h2") == expected
    assert visit.page.locator(".not-computed").count() == 0


def test_the_key_numbers_are_the_kpis(visit: Visit, demo: tuple[Path, Path]) -> None:
    result = kpis(load(spec=demo[0]))
    shown = dict(
        zip(
            visit.texts("#kpis .card .label"),
            visit.texts("#kpis .card .value"),
            strict=True,
        )
    )
    assert shown == {
        "Customers": f"{result.customers:,}",
        "Events": f"{result.events:,}",
        "Purchasers": f"{result.purchasers:,}",
        "Median days to purchase": f"{result.median_days_to_purchase:.1f}",
        "Repeat-purchase rate": f"{result.repeat_purchase_rate:.1%}",
        "Revenue from existing customers": f"{result.revenue_from_existing_share:.1%}",
        "Events without a touchpoint": "0",
    }
    assert result.customers == 1000


def test_a_full_page_screenshot(visit: Visit, tmp_path: Path) -> None:
    target = tmp_path / "report-1280.png"
    visit.page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = visit.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, "nothing sticks out to the right at 1280 px"


def test_spec_text_runs_no_script_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    spec = parse_spec(hostile_spec_text())
    events = read_events(event_table(hostile_events()), connection=connect("duckdb"))
    target = tmp_path / "report.html"
    write_report(apply_spec(events, spec), target)
    opened = Visit(browser, target)
    assert opened.dialogs == []
    assert opened.errors == []
    figures = opened.page.locator(".plotly-graph-div").count()
    assert opened.page.locator("script").count() == 1 + figures
    assert opened.page.locator("main b").count() == 0
    assert SCRIPT in opened.page.locator("h1").inner_text()
    stage_labels = opened.page.locator("#kpis .xtick text").all_text_contents()
    assert stage_labels[0].startswith(f"Browse {SCRIPT}")
    # Figures name stages and personas as the spec does, every character shown as written
    # (plotly would otherwise read <b> as bold and drop it).
    steps = opened.page.locator("#funnel .xtick text").all_text_contents()
    assert steps[:2] == [f"1. Browse {HOSTILE}", f"2. Buy {HOSTILE}"]
    legend = opened.page.locator("#funnel .legendtext").all_text_contents()
    assert f"Team {HOSTILE}" in legend
    timing = opened.page.locator("#timing .ytick text").all_text_contents()
    assert f"Browse {HOSTILE} → Buy {HOSTILE}" in timing
    assert opened.page.locator("svg [style*='font-weight: bold']").count() == 0
    opened.page.close()
