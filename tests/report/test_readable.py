"""The report as a person reads it: it fits the screen, and its numbers read as numbers.

The page is opened in Debian's chromium (as in ``test_browser.py``): at 1280 px nothing
makes the page scroll sideways and every stage of the journey map is in sight; on a
narrower screen a wide table scrolls in its own box and says so. Numbers are never in
scientific notation (1.48e+04 is 14,800), and counts take the right noun (1 customer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from journeys.data.engine import connect
from journeys.data.mapping import apply_spec
from journeys.data.reader import read_events
from journeys.demo import write_demo
from journeys.loading import load
from journeys.report import write_report
from journeys.report.display import Display, counted, p_value, significant
from journeys.spec import parse_spec
from tests.conftest import event_table
from tests.report.test_browser import CHROMIUM, Visit

SCIENTIFIC = re.compile(r"\d[.,]?\d*e[+-]?\d", re.IGNORECASE)

# Whether each table box scrolls sideways, and whether its note shows.
TABLE_BOXES = """() => Array.from(document.querySelectorAll('.table-wrap')).map(box => {
  const note = box.querySelector('.more');
  return {
    scrolls: box.scrollWidth > box.clientWidth + 1,
    note: note !== null && note.getBoundingClientRect().height > 0,
    right: box.getBoundingClientRect().right,
  };
})"""
STAGES = """() => Array.from(document.querySelectorAll('#journey_map .stage')).map(box => {
  const r = box.getBoundingClientRect();
  return {left: r.left, right: r.right, height: r.height, name: box.querySelector('h3').innerText};
})"""


def _round_to(value: float, digits: int) -> Decimal:
    """``value`` rounded to ``digits`` significant digits, by Decimal (the reference)."""
    exact = Decimal(repr(value))
    shift = exact.adjusted() - digits + 1
    return exact.scaleb(-shift).quantize(Decimal(1)).scaleb(shift)


@pytest.mark.parametrize(
    "value",
    [1.48e4, 2.5e7, 14_812.4, 1_106.4, 999.95, 56.47, 0.751, 0.00766, 1.69e-12, -0.0058, -59_736.0],
)
def test_significant_numbers_are_never_scientific(value: float) -> None:
    text = significant(value)
    assert not SCIENTIFIC.search(text), text
    shown = Decimal(text.replace(",", ""))
    if abs(value) >= 100:
        # Whole numbers stay whole: rounded to the unit, not to three digits.
        assert shown == Decimal(round(value))
    else:
        assert shown == _round_to(value, 3)


def test_money_reads_in_thousands() -> None:
    assert significant(1.48e4) == "14,800"
    assert significant(2.5e7) == "25,000,000"
    assert significant(0.00123) == "0.00123"
    assert significant(70.64, sign=True) == "+70.6"
    assert significant(-2.41, sign=True) == "-2.41"


def test_every_number_format_of_the_report_is_plain() -> None:
    show = Display(stages={}, touchpoints={}, milestones={}, personas={}).show
    for kind in ("int", "number", "number1", "number2", "g3", "signed", "pvalue"):
        for value in (1.48e4, 2.5e7, 3.2e-9, 0.5):
            assert not SCIENTIFIC.search(show(value, kind)), (kind, value)
    assert show(1.48e4, "number") == "14,800"
    assert show(2.5e7, "number2") == "25,000,000.00"


@pytest.mark.parametrize(
    ("value", "expected"), [(1.69e-12, "< 0.001"), (0.0458, "0.046"), (0.001, "0.001")]
)
def test_p_values_as_papers_print_them(value: float, expected: str) -> None:
    assert p_value(value) == expected


def test_counts_take_the_right_noun() -> None:
    assert counted(1, "customer") == "1 customer"
    assert counted(1.0, "row") == "1 row"
    assert counted(0, "row") == "0 rows"
    assert counted(2_000, "customer") == "2,000 customers"
    assert counted(3, "most common path") == "3 most common paths"


# The pages -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    files = write_demo(folder, customers=1000, seed=3)
    target = folder / "report.html"
    write_report(load(spec=files.spec), target)
    return target


def test_the_demo_fits_1280_px_and_shows_every_stage(browser: Browser, demo_report: Path) -> None:
    visit = Visit(browser, demo_report, width=1280)
    page = visit.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    stages = page.evaluate(STAGES)
    assert [stage["name"].split(". ", 1)[1] for stage in stages] == [
        "Awareness",
        "Consideration",
        "Purchase",
        "Onboarding",
        "Retention and service",
        "Loyalty",
        "Advocacy",
    ]
    for stage in stages:
        assert stage["left"] >= 0, stage
        assert stage["right"] <= 1280, stage
    # Seven stages fit side by side at this width: one row, in order.
    lefts = [stage["left"] for stage in stages]
    assert lefts == sorted(lefts)
    for table in page.evaluate(TABLE_BOXES):
        assert table["right"] <= 1280
        assert table["note"] == table["scrolls"], table
    page.close()


def test_a_narrow_screen_scrolls_wide_tables_in_their_box_with_a_note(
    browser: Browser, demo_report: Path
) -> None:
    visit = Visit(browser, demo_report, width=760)
    page = visit.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 760
    tables = page.evaluate(TABLE_BOXES)
    assert any(table["scrolls"] for table in tables), "the timing table is wider than 760 px"
    for table in tables:
        assert table["note"] == table["scrolls"], table
    # The stages wrap onto more rows: every one of them is still in sight.
    stages = page.evaluate(STAGES)
    assert len(stages) == 7
    for stage in stages:
        assert stage["left"] >= 0, stage
        assert stage["right"] <= 760, stage
    # Scrolled to its end, a table's note goes away: nothing more to see.
    first_wide = [table["scrolls"] for table in tables].index(True)
    wide = page.locator(".table-wrap").nth(first_wide)
    wide.evaluate("box => box.scrollLeft = box.scrollWidth")
    page.wait_for_timeout(100)
    assert wide.locator(".more").bounding_box() is None
    page.close()


def test_the_page_has_no_scientific_notation(browser: Browser, demo_report: Path) -> None:
    visit = Visit(browser, demo_report, width=1280)
    text = visit.page.locator("main").inner_text()
    found = SCIENTIFIC.findall(text)
    assert found == []
    assert "p-value" in text
    visit.page.close()


def _many_stages(count: int) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    stages = "\n".join(f"  - {{id: s{n}, name: Stage number {n}}}" for n in range(count))
    touchpoints = "\n".join(
        f"  - {{id: t{n}, name: Touchpoint {n}, stage: s{n}, events: e{n}}}" for n in range(count)
    )
    spec = f"name: Long journey\nstages:\n{stages}\ntouchpoints:\n{touchpoints}\n"
    journeys = {
        f"c{customer}": [(f"e{n}", f"2024-01-{n + 1:02d} 10:00") for n in range(count - customer)]
        for customer in range(count)
    }
    return spec, journeys


def test_a_journey_of_twelve_stages_keeps_its_last_stage_in_sight(
    browser: Browser, tmp_path: Path
) -> None:
    spec_text, journeys = _many_stages(12)
    events = read_events(event_table(journeys), connection=connect("duckdb"))
    target = tmp_path / "report.html"
    write_report(apply_spec(events, parse_spec(spec_text)), target)
    visit = Visit(browser, target, width=1280)
    page = visit.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    stages = page.evaluate(STAGES)
    assert [stage["name"] for stage in stages] == [f"{n + 1}. Stage number {n}" for n in range(12)]
    for stage in stages:
        assert stage["left"] >= 0, stage
        assert stage["right"] <= 1280, stage
        assert stage["height"] > 0
    # The customer counts under each stage: 12 customers reach the first, one the last.
    reach = visit.texts("#journey_map .stage .reach")
    assert reach[0] == "12 customers"
    assert reach[-1] == "1 customer"
    page.close()
