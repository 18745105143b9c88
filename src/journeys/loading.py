"""Read a spec and its events in one call: what the CLI, the report and notebooks share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys.data.engine import EngineName, connect
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, OnInvalid, read_customers, read_events
from journeys.data.sources import Format, Source
from journeys.errors import OptionsError
from journeys.spec.loader import load_spec
from journeys.spec.models import Columns, Spec


@dataclass(frozen=True)
class LoadOptions:
    """How to read events; unset values come from the spec's ``data`` section."""

    customer_col: str | None = None
    time_col: str | None = None
    event_col: str | None = None
    value_col: str | None = None
    channel_col: str | None = None
    satisfaction_col: str | None = None
    table: str | None = None
    input_format: Format | None = None
    timezone: str | None = None
    dedupe: bool = False
    on_invalid: OnInvalid = "error"
    engine: EngineName | None = None
    time_format: str | None = None
    every_row_is: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load(
    events: Source | None = None,
    spec: str | Path | Spec | None = None,
    options: LoadOptions | None = None,
) -> EventLog:
    """Read events (from ``events``, else the spec's ``data.events``) and apply the spec.

    Examples
    --------
    >>> log = load(spec="demo/journey.yaml")  # doctest: +SKIP
    >>> log.unmapped_events  # doctest: +SKIP
    0
    """
    options = options or LoadOptions()
    journey = spec if isinstance(spec, Spec) or spec is None else load_spec(spec)
    data = journey.data if journey is not None else None
    source = events if events is not None else (data.events if data is not None else None)
    if source is None:
        raise OptionsError(
            "no events given",
            hint="give the events file or database URL, or a spec whose `data.events` names it",
            code="no-events",
        )
    given = data.columns if data is not None else Columns()
    columns = Columns(
        customer_id=options.customer_col or given.customer_id,
        timestamp=options.time_col or given.timestamp,
        event=options.event_col or given.event,
        value=options.value_col or given.value,
        channel=options.channel_col or given.channel,
        satisfaction=options.satisfaction_col or given.satisfaction,
    )
    engine: EngineName = options.engine or (data.engine if data is not None else "duckdb")
    con = connect(engine)
    log = read_events(
        source,
        columns=columns,
        table=options.table or (data.table if data is not None and events is None else None),
        format=options.input_format
        or (data.format if data is not None and events is None else None),
        timezone=options.timezone or (data.timezone if data is not None else "UTC"),
        dedupe=options.dedupe,
        on_invalid=options.on_invalid,
        connection=con,
        time_format=options.time_format,
        every_row_is=options.every_row_is,
    )
    if journey is None:
        return log
    customers = None
    if data is not None and data.customers is not None:
        customers = read_customers(
            data.customers.source,
            customer_id=data.customers.customer_id,
            table=data.customers.table,
            connection=con,
        )
    return apply_spec(log, journey, customers)
