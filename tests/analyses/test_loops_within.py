"""Loops within a stage, checked against counts made by hand and by a plain-Python reading.

A loop within a stage is a return to a touchpoint already visited in the same visit of
the stage, when the event before it is at another touchpoint; events without a stage are
skipped, and leaving the stage starts a new visit. The hand-made journeys below are
counted in their comments; the random ones and the simple_shop clickstream are compared
with :func:`plain_loops`, a straightforward reading of that definition.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend
from jinja2 import Environment, PackageLoader, StrictUndefined
from typer.testing import CliRunner

from journeys.analyses.loops import LoopsResult, loops
from journeys.cli.app import app, main
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.plots.labels import Labels
from journeys.plots.loops import loops_within_figure
from journeys.report.display import Display
from journeys.spec import parse_spec
from journeys.spec.models import Spec
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP, event_table

Journeys = Callable[..., EventLog]

SHOP_SPEC = """\
name: Checkout
stages:
  - {id: browse, name: Browse}
  - {id: checkout, name: Checkout}
  - {id: pay, name: Pay}
touchpoints:
  - {id: catalog, name: Catalogue, stage: browse, events: catalog}
  - {id: cart, name: Cart, stage: checkout, events: cart}
  - {id: shipping, name: Shipping options, stage: checkout, events: shipping}
  - {id: address, name: Address form, stage: checkout, events: address}
  - {id: payment, name: Payment, stage: pay, events: payment}
"""

# Each journey, one event a day; `newsletter` and `help` match no touchpoint.
HAND_MADE = {
    # checkout: cart, shipping, cart (shipping -> cart), shipping (cart -> shipping): 2 loops
    "ann": ["catalog", "cart", "shipping", "cart", "shipping", "payment"],
    # repeats in a row are not loops
    "bob": ["cart", "cart", "shipping"],
    # leaving checkout for pay and coming back is a return to a stage, not a loop
    "cyd": ["cart", "payment", "cart", "shipping"],
    # cart, cart (the newsletter between is skipped: a repeat), shipping, cart: 1 loop
    "dan": ["cart", "newsletter", "cart", "shipping", "help", "cart"],
    # address after shipping (shipping -> address), cart after address (address -> cart)
    "eve": ["catalog", "cart", "address", "shipping", "address", "cart"],
    # no event with a stage: not among the customers
    "fay": ["newsletter", "help"],
    "gus": ["catalog", "catalog"],
}


def dated(journeys: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    start = datetime(2024, 3, 1)
    return {
        customer: [(name, (start + timedelta(days=k)).isoformat()) for k, name in enumerate(names)]
        for customer, names in journeys.items()
    }


def rows(table: pd.DataFrame | list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A table's rows as tuples, in its columns' order (from a DataFrame or from JSON)."""
    if isinstance(table, pd.DataFrame):
        return [tuple(None if pd.isna(v) else v for v in row) for row in table.to_numpy()]
    return [tuple(row.values()) for row in table]


@pytest.fixture(scope="module")
def hand_made(duckdb_con: BaseBackend) -> LoopsResult:
    # Counted by hand on DuckDB; the random journeys below compare both engines.
    events = read_events(event_table(dated(HAND_MADE)), connection=duckdb_con)
    return loops(apply_spec(events, parse_spec(SHOP_SPEC)))


def test_hand_counted_loops_per_stage(hand_made: LoopsResult) -> None:
    assert hand_made.customers == 6
    assert hand_made.customers_looping_within == 3  # ann, dan, eve
    assert hand_made.share_looping_within == pytest.approx(3 / 6)
    # stage, customers, looping customers, loops, share looping
    assert rows(hand_made.loops_within_stages) == [
        ("browse", 3, 0, 0, 0.0),
        ("checkout", 5, 3, 5, pytest.approx(3 / 5)),  # ann, dan, eve: 2 + 1 + 2 loops
        ("pay", 2, 0, 0, 0.0),
    ]


def test_hand_counted_loops_per_touchpoint(hand_made: LoopsResult) -> None:
    # Stages in the spec's order; in a stage, the touchpoints looped back to most first.
    # stage, touchpoint, customers, looping customers, returns, share of the stage
    assert rows(hand_made.loops_to_touchpoints) == [
        ("browse", "catalog", 3, 0, 0, 0.0),
        ("checkout", "cart", 5, 3, 3, pytest.approx(3 / 5)),  # ann, dan, eve
        ("checkout", "shipping", 5, 1, 1, pytest.approx(1 / 5)),  # ann
        ("checkout", "address", 1, 1, 1, pytest.approx(1 / 5)),  # eve
        ("pay", "payment", 2, 0, 0, 0.0),
    ]


def test_hand_counted_loops_between_touchpoints(hand_made: LoopsResult) -> None:
    pairs = rows(hand_made.loops_between_touchpoints)
    assert pairs[0] == ("checkout", "shipping", "cart", 2, 2)  # ann, dan
    assert sorted(pairs[1:]) == [
        ("checkout", "address", "cart", 1, 1),  # eve
        ("checkout", "cart", "shipping", 1, 1),  # ann
        ("checkout", "shipping", "address", 1, 1),  # eve
    ]


def test_leaving_the_stage_is_a_stage_return_only(hand_made: LoopsResult) -> None:
    # cyd's cart after payment is her one return (checkout after pay); no loop is counted.
    assert hand_made.returns.to_dict(orient="records") == [
        {"from_stage": "pay", "to_stage": "checkout", "returns": 1, "customers": 1}
    ]
    assert hand_made.looping_customers == 1


# --- an independent reading of the definition -------------------------------------------


@dataclass
class Counted:
    """What plain_loops counts."""

    customers: set[str] = field(default_factory=set)
    stage_customers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    stage_loopers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    stage_loops: Counter[str] = field(default_factory=Counter)
    touchpoint_customers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    touchpoint_loopers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    touchpoint_loops: Counter[str] = field(default_factory=Counter)
    pair_loops: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    pair_customers: dict[tuple[str, str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )


def plain_loops(
    rows: Iterable[dict[str, Any]], touchpoint_of: dict[str, tuple[str, str]]
) -> Counted:
    """Walk each customer's events in time order (ties by name), keeping those with a stage."""
    counted = Counted()
    for customer, events in reference.by_customer(rows).items():
        staged = [touchpoint_of[e["event"]] for e in events if e["event"] in touchpoint_of]
        current_stage = None
        seen: set[str] = set()
        previous = None
        for stage, touchpoint in staged:
            counted.customers.add(customer)
            counted.stage_customers[stage].add(customer)
            counted.touchpoint_customers[touchpoint].add(customer)
            if stage != current_stage:
                current_stage, seen = stage, set()
            elif touchpoint in seen and touchpoint != previous:
                assert previous is not None
                counted.stage_loopers[stage].add(customer)
                counted.stage_loops[stage] += 1
                counted.touchpoint_loopers[touchpoint].add(customer)
                counted.touchpoint_loops[touchpoint] += 1
                counted.pair_loops[(stage, previous, touchpoint)] += 1
                counted.pair_customers[(stage, previous, touchpoint)].add(customer)
            seen.add(touchpoint)
            previous = touchpoint
    return counted


def assert_matches(result: LoopsResult, counted: Counted, spec: Spec) -> None:
    customers = len(counted.customers)
    assert result.customers == customers
    loopers = set().union(*counted.stage_loopers.values()) if counted.stage_loopers else set()
    assert result.customers_looping_within == len(loopers)
    stages = {
        row["stage"]: (row["customers"], row["looping_customers"], row["loops"])
        for row in result.loops_within_stages.to_dict(orient="records")
    }
    assert stages == {
        stage.id: (
            len(counted.stage_customers[stage.id]),
            len(counted.stage_loopers[stage.id]),
            counted.stage_loops[stage.id],
        )
        for stage in spec.stages
    }
    touchpoints = {
        row["touchpoint"]: (
            row["customers"],
            row["looping_customers"],
            row["returns"],
            row["share_of_stage"],
        )
        for row in result.loops_to_touchpoints.to_dict(orient="records")
    }
    expected: dict[str, tuple[int, int, int, Any]] = {}
    for touchpoint in spec.touchpoints:
        in_stage = len(counted.stage_customers[touchpoint.stage])
        looped = len(counted.touchpoint_loopers[touchpoint.id])
        expected[touchpoint.id] = (
            len(counted.touchpoint_customers[touchpoint.id]),
            looped,
            counted.touchpoint_loops[touchpoint.id],
            pytest.approx(looped / in_stage) if in_stage else None,
        )
    assert touchpoints == expected
    pairs = {
        (row["stage"], row["from_touchpoint"], row["to_touchpoint"]): (
            row["returns"],
            row["customers"],
        )
        for row in result.loops_between_touchpoints.to_dict(orient="records")
    }
    assert pairs == {
        key: (count, len(counted.pair_customers[key])) for key, count in counted.pair_loops.items()
    }
    assert list(result.loops_between_touchpoints["returns"]) == sorted(
        counted.pair_loops.values(), reverse=True
    )


def test_random_journeys_match_a_plain_count(con: BaseBackend) -> None:
    spec = parse_spec(
        SHOP_SPEC
        + """\
  - {id: search, name: Search, stage: browse, events: search}
  - {id: receipt, name: Receipt, stage: pay, events: receipt}
"""
    )
    touchpoint_of = {t.id: (t.stage, t.id) for t in spec.touchpoints}
    generator = random.Random(20261124)
    by_stage: dict[str, list[str]] = defaultdict(list)
    for name, (stage, _) in touchpoint_of.items():
        by_stage[stage].append(name)
    rows = []
    for customer in range(150):
        time, stage = datetime(2024, 1, 1), generator.choice(list(by_stage))
        for _ in range(generator.randrange(1, 25)):
            # Mostly within the current stage; some unmapped events; ties (same hour)
            # ordered by the event's name.
            if generator.random() < 0.25:
                stage = generator.choice(list(by_stage))
            name = generator.choice(
                [*by_stage[stage], "help"] if generator.random() < 0.9 else ["newsletter"]
            )
            time += timedelta(hours=generator.randrange(3))
            rows.append({"customer_id": f"c{customer:03d}", "event": name, "timestamp": time})
    counted = plain_loops(rows, touchpoint_of)
    assert all(counted.stage_loops[stage.id] > 10 for stage in spec.stages), "they loop"
    events = read_events(pa.Table.from_pylist(rows), connection=con)
    assert_matches(loops(apply_spec(events, spec)), counted, spec)


def test_the_simple_shop_clickstream_matches_a_plain_count(
    con: BaseBackend, simple_shop_rows: list[dict[str, Any]]
) -> None:
    spec = parse_spec(
        """
name: Shop
stages:
  - {id: shop, name: Shop}
  - {id: pay, name: Pay}
touchpoints:
  - {id: main, name: Home page, stage: shop, events: main}
  - {id: catalog, name: Catalogue, stage: shop, events: catalog}
  - {id: product, name: Product, stage: shop, events: [product1, product2]}
  - {id: cart, name: Cart, stage: shop, events: cart}
  - {id: delivery, name: Delivery, stage: pay, events: [delivery_choice, delivery_courier, delivery_pickup]}
  - {id: payment, name: Payment, stage: pay, events: [payment_choice, payment_card, payment_cash, payment_done]}
"""
    )
    touchpoint_of = {name: ("shop", name) for name in ("main", "catalog", "cart")}
    touchpoint_of |= dict.fromkeys(("product1", "product2"), ("shop", "product"))
    touchpoint_of |= dict.fromkeys(
        ("delivery_choice", "delivery_courier", "delivery_pickup"), ("pay", "delivery")
    )
    touchpoint_of |= dict.fromkeys(
        ("payment_choice", "payment_card", "payment_cash", "payment_done"), ("pay", "payment")
    )
    counted = plain_loops(simple_shop_rows, touchpoint_of)
    assert counted.stage_loops["shop"] > 0, "shoppers go back and forth between products"
    result = loops(apply_spec(read_events(SIMPLE_SHOP, connection=con), spec))
    assert_matches(result, counted, spec)


def test_a_stage_nobody_reached_is_listed_with_no_share(journeys_for: Journeys) -> None:
    spec = parse_spec(
        """
name: Short
stages:
  - {id: shop, name: Shop}
  - {id: pay, name: Pay}
touchpoints:
  - {id: cart, name: Cart, stage: shop, events: cart}
  - {id: payment, name: Payment, stage: pay, events: payment}
"""
    )
    # The unmapped event between the two carts is skipped: a repeat, not a loop.
    events = journeys_for(dated({"ann": ["cart", "x", "cart"], "bob": ["x"]}))
    result = loops(apply_spec(events, spec))
    assert (result.customers, result.customers_looping_within) == (1, 0)
    assert result.share_looping_within == 0.0
    written = json.loads(result.to_json())
    assert rows(written["loops_within_stages"]) == [
        ("shop", 1, 0, 0, 0.0),
        ("pay", 0, 0, 0, None),
    ]
    assert rows(written["loops_to_touchpoints"]) == [
        ("shop", "cart", 1, 0, 0, 0.0),
        ("pay", "payment", 0, 0, 0, None),
    ]
    assert written["loops_between_touchpoints"] == []


# --- the figure ------------------------------------------------------------------------


def test_the_figure_shows_the_touchpoints_looped_back_to_by_name(hand_made: LoopsResult) -> None:
    figure = loops_within_figure(hand_made, labels=Labels.of(parse_spec(SHOP_SPEC)))
    assert figure is not None
    bar = figure.data[0]
    # Customers who came back: cart 3; shipping and address 1 each (ties keep the table's order).
    assert list(bar.y) == ["Cart", "Shipping options", "Address form"]
    assert list(bar.x) == [3, 1, 1]


def test_no_figure_without_loops(duckdb_con: BaseBackend) -> None:
    events = read_events(
        event_table(dated({"bob": ["cart", "cart", "shipping"]})), connection=duckdb_con
    )
    assert loops_within_figure(loops(apply_spec(events, parse_spec(SHOP_SPEC)))) is None


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def shop_files(tmp_path: Path) -> Path:
    start = datetime(2024, 3, 1)
    with (tmp_path / "events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "event", "timestamp"])
        for customer, names in HAND_MADE.items():
            for k, name in enumerate(names):
                writer.writerow([customer, name, (start + timedelta(days=k)).isoformat()])
    spec = tmp_path / "journey.yaml"
    spec.write_text(SHOP_SPEC + "data:\n  events: events.csv\n")
    return spec


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, ["loops", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_command_in_json(shop_files: Path) -> None:
    values = json.loads(invoke("--spec", str(shop_files), "--format", "json").stdout)
    assert values["customers_looping_within"] == 3
    assert values["share_looping_within"] == pytest.approx(0.5)
    assert rows(values["loops_within_stages"]) == [
        ("browse", 3, 0, 0, 0.0),
        ("checkout", 5, 3, 5, pytest.approx(0.6)),
        ("pay", 2, 0, 0, 0.0),
    ]
    assert values["loops_between_touchpoints"][0] == {
        "stage": "checkout",
        "from_touchpoint": "shipping",
        "to_touchpoint": "cart",
        "returns": 2,
        "customers": 2,
    }
    cart = next(row for row in values["loops_to_touchpoints"] if row["touchpoint"] == "cart")
    assert (cart["looping_customers"], cart["returns"]) == (3, 3)


def test_the_command_in_a_table(shop_files: Path) -> None:
    out = invoke("--spec", str(shop_files), "--format", "table").stdout
    for title in ("loops within stages", "loops to touchpoints", "loops between touchpoints"):
        assert title in out
    checkout = next(line for line in out.splitlines() if "checkout" in line and "60.0%" in line)
    assert [cell.strip() for cell in checkout.strip("│ ").split("│")] == [
        "checkout",
        "5",
        "3",
        "5",
        "60.0%",
    ]
    within = next(line for line in out.splitlines() if "customers looping within" in line)
    assert [cell.strip() for cell in within.strip("│ ").split("│")][-1] == "3"


def test_the_command_in_csv_writes_the_stage_returns(shop_files: Path) -> None:
    out = invoke("--spec", str(shop_files), "--format", "csv").stdout
    table = pd.read_csv(io.StringIO(out))
    assert table.to_dict(orient="records") == [
        {"from_stage": "pay", "to_stage": "checkout", "returns": 1, "customers": 1}
    ]


def test_the_command_without_a_spec_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv"
    events.write_text("user_id,event,timestamp\nann,cart,2024-01-01\n")
    # Through the console entry point, which turns a user's mistake into exit code 2.
    code = main(["loops", str(events)])
    captured = capsys.readouterr()
    assert code == 2
    assert "needs a journey spec" in captured.err
    assert "--spec" in captured.err
    assert "Traceback" not in captured.err + captured.out


# --- the report's section ------------------------------------------------------------


def test_the_report_section_names_what_the_spec_names(hand_made: LoopsResult) -> None:
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    environment.filters.update(Display.of(parse_spec(SHOP_SPEC)).filters())
    html = environment.get_template("sections/loops.html.j2").render(
        result=hand_made, figures=["STAGE-FIGURE", "TOUCHPOINT-FIGURE"], findings=[]
    )
    text = " ".join(html.split())
    assert "3 of 6 customers (50.0%) came back to a touchpoint" in text
    assert text.index("STAGE-FIGURE") < text.index("Loops within a stage")
    assert text.index("Loops within a stage") < text.index("TOUCHPOINT-FIGURE")
    # The checkout stage: 5 customers, 3 looping (60.0%), 5 loops, under the spec's names.
    assert '<td class="stage text">Checkout</td><td class="int">5</td>' in text
    assert '<td class="int">3</td><td class="percent1">60.0%</td><td class="int">5</td>' in text
    assert "Every loop (4 in all)" in text
    assert (
        '<td class="touchpoint text">Shipping options</td>'
        '<td class="touchpoint text">Cart</td><td class="int">2</td>' in text
    )
