"""Text from a spec renders as text everywhere in the report: titles, the map, tables, figures."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from journeys.data.engine import connect
from journeys.data.mapping import apply_spec
from journeys.data.reader import read_events
from journeys.report import write_report
from journeys.spec import parse_spec
from tests.conftest import event_table

SCRIPT = "<script>alert(1)</script>"
QUOTED = '"quoted" & <b>'
HOSTILE = f"{SCRIPT} {QUOTED}"


def hostile_spec_text() -> str:
    text = json.dumps(HOSTILE)  # a YAML double-quoted scalar
    return f"""
name: {text}
description: {text}
stages:
  - {{id: browse, name: {json.dumps("Browse " + HOSTILE)}, description: {text}}}
  - {{id: buy, name: {json.dumps("Buy " + HOSTILE)}, description: {text}}}
  - {{id: use, name: {json.dumps("Use " + HOSTILE)}}}
touchpoints:
  - {{id: visit, name: {json.dumps("Visit " + HOSTILE)}, stage: browse, events: visit,
     owner: {text}, channel: {text}, description: {text}}}
  - {{id: order, name: {json.dumps("Order " + HOSTILE)}, stage: buy, events: order, owner: sales}}
  - {{id: login, name: {json.dumps("Login " + HOSTILE)}, stage: use, events: login, owner: product}}
personas:
  - {{id: team, name: {json.dumps("Team " + HOSTILE)}, description: {text},
     where: [{{column: plan, equals: team}}]}}
  - {{id: solo, name: Solo, where: [{{column: plan, equals: solo}}]}}
milestones:
  - {{id: purchase, name: {json.dumps("Purchase " + HOSTILE)}, touchpoints: order}}
"""


def hostile_events() -> dict[str, list[tuple[str, str, dict[str, object]]]]:
    journeys: dict[str, list[tuple[str, str, dict[str, object]]]] = {}
    for number in range(12):
        plan = "team" if number % 2 else "solo"
        day = 1 + number
        events = [("visit", f"2024-01-{day:02d}")]
        if number % 3:
            events += [("order", f"2024-02-{day:02d}"), ("login", f"2024-02-{day + 2:02d}")]
            events += [("order", f"2024-04-{day:02d}"), ("visit", f"2024-05-{day:02d}")]
        journeys[f"c{number:02d}"] = [
            (name, time, {"plan": plan, "amount": 10.0 * (1 + number % 4)}) for name, time in events
        ]
    return journeys


class Page(HTMLParser):
    """Every element of a page, the text outside scripts and styles, and each script."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.title = ""
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append("")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        inside = self._open[-1] if self._open else ""
        if inside == "script":
            self.scripts[-1] += data
        elif inside != "style":
            self.text.append(data)
        if inside == "title":
            self.title += data


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Page, str]:
    spec = parse_spec(hostile_spec_text())
    events = read_events(event_table(hostile_events()), connection=connect("duckdb"))
    target = tmp_path_factory.mktemp("report") / "report.html"
    write_report(apply_spec(events, spec), target)
    source = target.read_text(encoding="utf-8")
    parsed = Page()
    parsed.feed(source)
    parsed.close()
    return parsed, source


def test_the_spec_is_what_it_says(page: tuple[Page, str]) -> None:
    spec = parse_spec(hostile_spec_text())
    assert spec.name == HOSTILE
    assert spec.touchpoints[0].name == f"Visit {HOSTILE}"


def test_no_element_is_injected(page: tuple[Page, str]) -> None:
    parsed, _ = page
    tags = {tag for tag, _ in parsed.elements}
    assert "b" not in tags
    figures = [attrs for tag, attrs in parsed.elements if "plotly-graph-div" in str(attrs)]
    assert figures, "the report draws figures"
    # plotly.js once, then one script per figure (plotly's own), and nothing else
    assert len(parsed.scripts) == 1 + len(figures)
    assert parsed.scripts[0].lstrip().startswith("/**")
    assert all("Plotly.newPlot" in script for script in parsed.scripts[1:])
    assert not any(script.strip() == "alert(1)" for script in parsed.scripts)


def test_the_text_is_shown_as_written(page: tuple[Page, str]) -> None:
    parsed, _ = page
    text = "".join(parsed.text)
    assert HOSTILE in parsed.title
    for name in ("Browse", "Buy", "Visit", "Team", "Order"):
        assert f"{name} {HOSTILE}" in text, name
    # the description of the journey, of a stage, of a touchpoint and of a persona
    assert text.count(HOSTILE) >= 4 + 9


def test_figure_labels_cannot_close_their_script(page: tuple[Page, str]) -> None:
    """Plotly writes labels as JSON with <, > and / escaped: the text is there, its tags are not."""
    parsed, source = page
    figures = "".join(parsed.scripts[1:])
    assert "</" not in figures
    assert "Browse \\u003cscript\\u003ealert(1)\\u003c\\u002fscript\\u003e" in figures
    assert source.lower().count("</script>") == len(parsed.scripts)
