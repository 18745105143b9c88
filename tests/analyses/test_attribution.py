"""Attribution from events and from a file of paths, against paths built here in plain
Python, and through the command line (JSON, tables, CSV, and each user mistake)."""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.attribution import (
    AttributionParams,
    AttributionResult,
    attribution,
    attribution_from_paths,
)
from journeys.analyses.registry import Entry, ReportSection
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from journeys.spec import parse_spec
from tests.conftest import event_table

SPEC = """
name: Shop
stages:
  - {id: aware, name: Awareness}
  - {id: buy, name: Purchase}
touchpoints:
  - {id: ad, name: Advert, stage: aware, channel: paid, events: ad_click}
  - {id: email, name: E-mail, stage: aware, channel: owned, events: email_open}
  - {id: web, name: Web visit, stage: aware, channel: owned, events: visit}
  - {id: order, name: Order, stage: buy, channel: web, events: purchase}
milestones:
  - {id: purchase, name: Purchase, events: [purchase]}
"""
TOUCHPOINT = {"ad_click": "ad", "email_open": "email", "visit": "web"}
CHANNEL = {"ad_click": "paid", "email_open": "owned", "visit": "owned"}

DAY = "2024-01-{:02d}"
HAND = {
    "ann": [
        ("ad_click", "2024-01-01"),
        ("email_open", "2024-01-02"),
        ("visit", "2024-01-03"),
        ("purchase", "2024-01-04", {"amount": 100.0}),
        ("email_open", "2024-01-10"),
        ("purchase", "2024-02-09", {"amount": 50.0}),
        ("ad_click", "2024-02-10"),
    ],
    "bob": [
        ("visit", "2024-01-01"),
        ("visit", "2024-01-02"),
        ("newsletter", "2024-01-03"),
        ("ad_click", "2024-01-05"),
    ],
    "cyd": [("purchase", "2024-01-01", {"amount": 20.0})],
    "dan": [
        ("email_open", "2024-01-01"),
        ("email_open", "2024-02-19"),
        ("purchase", "2024-02-29", {"amount": 70.0}),
    ],
}


def log(con: BaseBackend, journeys: Mapping[str, Sequence[Any]]) -> EventLog:
    return apply_spec(read_events(event_table(journeys), connection=con), parse_spec(SPEC))


def distinct_paths(result_paths: Any) -> dict[tuple[str, ...], tuple[float, float, float]]:
    paths = result_paths.paths
    found = {}
    for i in range(len(paths)):
        touches = paths.touches[paths.offsets[i] : paths.offsets[i + 1]]
        key = tuple(paths.channels[t] for t in touches)
        found[key] = (paths.conversions[i], paths.value[i], paths.nulls[i])
    return found


def test_paths_of_hand_made_journeys(con: BaseBackend) -> None:
    from journeys.analyses.attribution_paths import PathRules, event_paths

    events = log(con, HAND)
    rules = PathRules(
        conversion="milestone:purchase",
        level="touchpoint",
        lookback_us=30 * 86400 * 10**6,
        collapse_repeats=False,
        max_length=None,
        exclude=(),
        half_life_us=7 * 86400 * 10**6,
    )
    found = event_paths(events, rules)
    # ann: ad email web before her first purchase (100); e-mail on 10 Jan, exactly 30 days
    # before her second (50); then an advert that led nowhere. bob: never bought. cyd bought
    # with no touch before. dan: his e-mail of 1 Jan is older than the lookback.
    assert distinct_paths(found) == {
        ("ad", "email", "web"): (1, 100.0, 0),
        ("email",): (2, 120.0, 0),
        ("ad",): (0, 0.0, 1),
        ("web", "web", "ad"): (0, 0.0, 1),
    }
    assert found.conversions_without_touches == 1
    assert found.value_without_touches == 20.0
    # bob's newsletter is no touchpoint; the purchases are conversions, not touches.
    assert found.left_out == {
        "events without a touchpoint": 1,
        "excluded touchpoints": 0,
        "before the lookback": 1,
    }
    decay = found.time_decay.set_index("channel")
    weights = [2 ** (-3 / 7), 2 ** (-2 / 7), 2 ** (-1 / 7)]  # ad, email, web: 3, 2, 1 days
    assert decay.loc["ad", "conversions"] == pytest.approx(weights[0] / sum(weights))
    assert decay.loc["web", "value"] == pytest.approx(100 * weights[2] / sum(weights))
    assert decay.loc["email", "conversions"] == pytest.approx(2 + weights[1] / sum(weights))


def test_repeats_cap_exclusions_and_channels(duckdb_con: BaseBackend) -> None:
    from journeys.analyses.attribution_paths import PathRules, event_paths

    events = log(duckdb_con, HAND)
    rules = PathRules(
        conversion="purchase",
        level="channel",
        lookback_us=None,
        collapse_repeats=True,
        max_length=1,
        exclude=("paid",),
        half_life_us=86400 * 10**6,
    )
    found = event_paths(events, rules)
    # By channel, without paid: ann 'owned owned' then 'owned', bob 'owned owned', dan 'owned
    # owned': collapsed to one touch each. ann's last advert is excluded: no tail.
    assert distinct_paths(found) == {("owned",): (3, 220.0, 1)}
    assert found.left_out == {
        "events without a channel": 1,
        "excluded channels": 3,
        "before the lookback": 0,
        "repeats collapsed or beyond the length cap": 3,
    }


def plain_paths(
    rows: list[dict[str, Any]], lookback: timedelta | None, collapse: bool, cap: int | None
) -> tuple[dict[tuple[str, ...], list[float]], float]:
    """The distinct paths with conversions, value and nulls, and the conversions without a
    touch, built from plain rows."""
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_customer[row["customer_id"]].append(row)
    found: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    without = 0.0

    def close(touches: list[tuple[datetime, str]], end: datetime | None, value: float) -> float:
        if end is None:
            if not touches:
                return 0.0
            end = touches[-1][0]
        kept = [name for time, name in touches if lookback is None or time >= end - lookback]
        if collapse:
            kept = [name for i, name in enumerate(kept) if i == 0 or kept[i - 1] != name]
        if cap is not None:
            kept = kept[-cap:]
        converted = value is not None and end is not None and value >= 0
        if not kept:
            return 1.0 if converted else 0.0
        entry = found[tuple(kept)]
        if converted:
            entry[0] += 1
            entry[1] += value
        else:
            entry[2] += 1
        return 0.0

    for events in by_customer.values():
        events.sort(key=lambda row: (row["timestamp"], row["event"]))
        touches: list[tuple[datetime, str]] = []
        for row in events:
            if row["event"] == "purchase":
                without += close(touches, row["timestamp"], row["amount"])
                touches = []
            elif row["event"] in TOUCHPOINT:
                touches.append((row["timestamp"], TOUCHPOINT[row["event"]]))
        if touches:
            close(touches, None, -1.0)
    return dict(found), without


def random_rows(seed: int, customers: int) -> list[dict[str, Any]]:
    generator = random.Random(seed)
    rows = []
    names = [*TOUCHPOINT, "newsletter", "purchase"]
    for customer in range(customers):
        time = datetime(2024, 1, 1) + timedelta(hours=generator.randrange(500))
        for _ in range(generator.randrange(1, 14)):
            time += timedelta(hours=generator.randrange(1, 200))
            name = generator.choices(names, [4, 3, 4, 1, 2])[0]
            amount = float(generator.randrange(10, 90)) if name == "purchase" else None
            rows.append(
                {
                    "customer_id": f"c{customer:03d}",
                    "event": name,
                    "timestamp": time,
                    "amount": amount,
                }
            )
    return rows


@pytest.mark.parametrize(
    ("lookback", "collapse", "cap"),
    [(None, False, None), (timedelta(days=10), True, 3)],
)
def test_random_journeys_match_plain_paths(
    con: BaseBackend, lookback: timedelta | None, collapse: bool, cap: int | None
) -> None:
    from journeys.analyses.attribution_paths import PathRules, event_paths

    rows = random_rows(31, 120)
    events = apply_spec(read_events(pa.Table.from_pylist(rows), connection=con), parse_spec(SPEC))
    rules = PathRules(
        conversion="milestone:purchase",
        level="touchpoint",
        lookback_us=None if lookback is None else lookback // timedelta(microseconds=1),
        collapse_repeats=collapse,
        max_length=cap,
        exclude=(),
        half_life_us=7 * 86400 * 10**6,
    )
    found = event_paths(events, rules)
    expected, without = plain_paths(rows, lookback, collapse, cap)
    assert sum(entry[0] for entry in expected.values()) > 30, "customers convert"
    assert distinct_paths(found) == {key: tuple(value) for key, value in expected.items()}
    assert found.conversions_without_touches == without


def test_the_result_of_events(duckdb_con: BaseBackend) -> None:
    result = attribution(log(duckdb_con, HAND), AttributionParams(lookback="30d"))
    assert result.params.conversion is None  # milestone:purchase, the spec has it
    assert result.conversions == 3
    assert result.value == 220.0
    assert result.non_conversions == 2
    # Conservation of the counted flow: p is the conversions over all paths.
    assert result.conversion_probability == pytest.approx(3 / 5)
    channels = result.channels.set_index("channel")
    for model in ("first_touch", "last_touch", "linear", "position_based", "time_decay"):
        assert channels[model].sum() == pytest.approx(3)
        assert channels[f"{model}_value"].sum() == pytest.approx(220)
    assert channels.loc["ad", "first_touch"] == 1
    assert channels.loc["email", "last_touch"] == 2
    assert channels.loc["web", "last_touch"] == 1
    # Order 1: start -> ad 2, email 2, web 1; ad -> email 1, null 1; email -> web 1,
    # conversion 2; web -> web 1, ad 1, conversion 1. x_email = (2 + x_web) / 3,
    # x_web = (x_web + x_ad + 1) / 3, x_ad = x_email / 2 give x_email = 6/7, x_ad = 3/7,
    # x_web = 5/7: p = (2 * 3/7 + 2 * 6/7 + 5/7) / 5 = 3/5. Without email, only web's
    # conversion: x_web = 1/2 (x_ad = 0), p = 1/10, an effect of 5/6.
    assert channels.loc["email", "removal_effect"] == pytest.approx(5 / 6)
    assert channels["markov"].sum() == pytest.approx(3)
    assert channels["shapley"].sum() == pytest.approx(3)


# --- from a file of paths ---------------------------------------------------------------------

PATHS_CSV = """path;total_conversions;total_conversion_value;total_null
a > b;1;10;1
b;0;0;1
a > a > c;2;30;0
c > b;1;5;2
;1;7;0
"""


def test_a_paths_file_as_channel_attribution_writes_it(tmp_path: Path) -> None:
    source = tmp_path / "paths.csv"
    source.write_text(PATHS_CSV)
    result = attribution_from_paths(str(source), sep=";")
    channels = result.channels.set_index("channel")
    # The hand-derived removal effects of tests/analyses/test_attribution_models.py.
    assert channels["removal_effect"].to_dict() == pytest.approx(
        {"a": 7 / 15, "b": 1 / 2, "c": 3 / 4}
    )
    assert channels["markov"].to_dict() == pytest.approx(
        {"a": 4 * 28 / 103, "b": 4 * 30 / 103, "c": 4 * 45 / 103}
    )
    assert channels["time_decay"].isna().all()
    assert result.conversions_without_touches == 1
    assert result.value_without_touches == 7
    assert result.conversion_probability == pytest.approx(1 / 2)


def test_the_paths_file_needs_its_columns(tmp_path: Path) -> None:
    from journeys.errors import DataError

    source = tmp_path / "paths.csv"
    source.write_text("route,sales\na > b,1\n")
    with pytest.raises(DataError, match="has no column 'path', 'total_conversions'"):
        attribution_from_paths(str(source))
    result = attribution_from_paths(str(source), path_col="route", conversions_col="sales")
    assert result.channels.set_index("channel")["linear"].to_dict() == {"a": 0.5, "b": 0.5}


def test_orders_out_of_range_are_refused() -> None:
    for order in (0, 5):
        with pytest.raises(ValueError, match="order is 1 to 4"):
            AttributionParams(order=order)


# --- the command line ---------------------------------------------------------------------

ENTRY = Entry(
    "attribution",
    "attribution",
    "Attribution",
    "Which touchpoints earn the conversion: first and last touch, linear, position based, "
    "time decay, Markov removal effects and Shapley values, side by side.",
    ReportSection("Which touchpoints earn the conversion", "attribution.html.j2"),
)

Command = Callable[..., tuple[int, str, str]]


@pytest.fixture
def command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    """Run ``journeys attribution ...`` through the console entry point, with the analysis
    in the registry."""
    registry = importlib.import_module("journeys.analyses.registry")
    cli_app = importlib.import_module("journeys.cli.app")
    entries = registry.ENTRIES
    if not any(entry.name == "attribution" for entry in entries):
        entries = (*entries, ENTRY)
    monkeypatch.setattr(registry, "ENTRIES", entries)
    monkeypatch.setattr(cli_app, "ENTRIES", entries)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = cli_app.main(["attribution", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    with (tmp_path / "events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "event", "timestamp", "amount"])
        for customer, events in HAND.items():
            for item in events:
                amount = item[2]["amount"] if len(item) > 2 else ""
                writer.writerow([customer, item[0], item[1], amount])
    spec = tmp_path / "journey.yaml"
    spec.write_text(SPEC + "data:\n  events: events.csv\n")
    return spec


def test_the_command_in_json(command: Command, spec_file: Path) -> None:
    code, out, err = command("--spec", str(spec_file), "--lookback", "30d", "--format", "json")
    assert code == 0, err
    values = json.loads(out)
    assert values["order"] == 1
    assert values["conversion_probability"] == pytest.approx(3 / 5)
    assert values["conversions_without_touches"] == 1
    email = next(row for row in values["channels"] if row["channel"] == "email")
    assert email["last_touch"] == 2
    assert email["removal_effect"] == pytest.approx(5 / 6)
    assert set(email) >= {"first_touch", "linear", "position_based", "time_decay", "markov"}


def test_the_command_as_a_table_and_csv(command: Command, spec_file: Path) -> None:
    code, out, err = command("--spec", str(spec_file), "--conversion", "purchase")
    assert code == 0, err
    assert "attributed conversions" in out
    assert "attributed value" in out
    assert "email" in out
    code, out, err = command("--spec", str(spec_file), "--order", "2", "--format", "csv")
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert set(frame["channel"]) == {"ad", "email", "web"}
    assert frame["markov"].sum() == pytest.approx(3)
    code, out, err = command(
        "--spec", str(spec_file), "--level", "channel", "--exclude", "paid", "--format", "csv"
    )
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    # Without adverts, every path is 'owned' only: it earns all three conversions.
    assert frame.set_index("channel")["markov"].to_dict() == {"owned": 3.0}


def test_the_command_on_a_paths_file(command: Command, tmp_path: Path) -> None:
    source = tmp_path / "paths.csv"
    source.write_text(PATHS_CSV)
    code, out, err = command("--paths", str(source), "--sep", ";", "--format", "json")
    assert code == 0, err
    values = json.loads(out)
    markov = {row["channel"]: row["markov"] for row in values["channels"]}
    assert markov == pytest.approx({"a": 4 * 28 / 103, "b": 4 * 30 / 103, "c": 4 * 45 / 103})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--conversion", "milestone:renewal"], "matches no milestone"),
        (["--conversion", "purchse"], "did you mean 'purchase'"),
        (["--order", "0"], "--order: the Markov chain's order is 1 to 4"),
        (["--order", "5"], "--order: the Markov chain's order is 1 to 4"),
        (["--lookback", "soon"], "--lookback: 'soon' is not a duration"),
    ],
)
def test_mistakes_with_events(
    command: Command, spec_file: Path, arguments: list[str], message: str
) -> None:
    code, _out, err = command("--spec", str(spec_file), *arguments)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_mistakes_with_a_paths_file(command: Command, tmp_path: Path) -> None:
    source = tmp_path / "paths.csv"
    source.write_text("route,sales\na > b,1\n")
    code, _, err = command("--paths", str(source))
    assert code == 2
    assert "has no column 'path', 'total_conversions'; its columns are: route, sales" in err
    assert "--path-col" in err
    code, _, err = command("--paths", str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert "does not exist" in err
    code, _, err = command()
    assert code == 2
    assert "attribution needs events or a file of paths" in err


def test_no_conversion_named_without_a_purchase_milestone(duckdb_con: BaseBackend) -> None:
    events = read_events(event_table(HAND), connection=duckdb_con)
    with pytest.raises(OptionsError, match="which conversion"):
        attribution(events, AttributionParams(level="event"))
    result = attribution(events, AttributionParams(level="event", conversion="purchase"))
    assert result.conversions == 3
    assert math.isclose(result.channels["last_touch"].sum(), 3)


def test_the_result_reads_back_from_json(duckdb_con: BaseBackend) -> None:
    result = attribution(log(duckdb_con, HAND), AttributionParams())
    again = AttributionResult.model_validate_json(result.to_json())
    pd.testing.assert_frame_equal(again.channels, result.channels, check_dtype=False)


# --- the figure and the report's section --------------------------------------------------


def test_the_figure_compares_every_model(duckdb_con: BaseBackend) -> None:
    from journeys.plots.attribution import models_figure
    from journeys.plots.labels import Labels

    spec = parse_spec(SPEC)
    result = attribution(log(duckdb_con, HAND), AttributionParams(lookback="30d"))
    figure = models_figure(result, labels=Labels.of(spec))
    names = [trace.name for trace in figure.data]
    assert names == [
        "First touch",
        "Last touch",
        "Linear",
        "Position based",
        "Time decay",
        "Markov (removal effect)",
        "Shapley",
    ]
    for trace in figure.data:
        assert sum(trace.x) == pytest.approx(1.0)  # shares of the 3 conversions
    assert set(figure.data[0].y) == {"Advert", "E-mail", "Web visit"}
    last = dict(zip(figure.data[1].y, figure.data[1].x, strict=True))
    assert last == pytest.approx({"E-mail": 2 / 3, "Web visit": 1 / 3, "Advert": 0.0})


def test_the_report_section(duckdb_con: BaseBackend) -> None:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from journeys.report.display import Display

    spec = parse_spec(SPEC)
    result = attribution(
        log(duckdb_con, HAND), AttributionParams(conversion="milestone:purchase", lookback="30d")
    )
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    environment.filters.update(Display.of(spec).filters())
    html = environment.get_template("sections/attribution.html.j2").render(
        result=result, figures=["MODELS-FIGURE"], findings=[]
    )
    text = " ".join(html.split())
    assert "3 conversions (Purchase) split among the touchpoints touched before each one" in text
    assert "within 30.0 d and since the customer's previous conversion" in text
    assert "MODELS-FIGURE" in text
    assert '<td class="touchpoint text">E-mail</td>' in text
    assert "conversion probability of 60.0% from the start" in text
    assert "2 paths led to no conversion" in text
    assert "1 conversion had no touch before it and is in no model." in text
    assert "1 event left out of the paths: before the lookback." in text
    assert "1 event left out of the paths: events without a touchpoint." in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path,total_conversions\na > > b,1\nb >,2\n", "2 paths have an empty step"),
        ("path,total_conversions,total_null\na,1,-1\n", "1 row has negative counts"),
        ("path,total_conversions\na,1\nb,\n", "1 row has conversions or non-conversions that"),
    ],
)
def test_mistakes_in_a_paths_file(
    command: Command, tmp_path: Path, text: str, message: str
) -> None:
    source = tmp_path / "paths.csv"
    source.write_text(text)
    code, _, err = command("--paths", str(source))
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_rows_of_the_same_path_add_up(tmp_path: Path) -> None:
    source = tmp_path / "paths.csv"
    source.write_text("path,total_conversions,total_null\na>b,1,0\na > b,1,2\n b ,0,1\n")
    result = attribution_from_paths(str(source))
    assert result.conversions == 2
    assert result.non_conversions == 3
    assert result.conversion_probability == pytest.approx(2 / 5)
    assert result.channels.set_index("channel")["first_touch"].to_dict() == {"a": 2.0, "b": 0.0}
