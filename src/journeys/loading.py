"""Read a spec and its events in one call: what the CLI, the report and notebooks share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeys.data.engine import connect
from journeys.data.mapping import apply_spec
from journeys.data.options import ReadOptions
from journeys.data.reader import EventLog, read_customers, read_events, reading_options
from journeys.data.sources import Source
from journeys.errors import OptionsError
from journeys.spec.loader import load_spec
from journeys.spec.models import Spec


def load(
    events: Source | None = None,
    spec: str | Path | Spec | None = None,
    options: ReadOptions | None = None,
    *,
    every_row_is: str | None = None,
    **values: Any,
) -> EventLog:
    """Read events (from ``events``, else the spec's ``data.events``) and apply the spec.

    Reading options come from ``options`` and keywords, over the spec's ``data`` section;
    when ``events`` is given, the spec's ``table`` and ``format`` (which describe its own
    source) are not used for it.

    Examples
    --------
    >>> log = load(spec="demo/journey.yaml")  # doctest: +SKIP
    >>> log.unmapped_events  # doctest: +SKIP
    0
    """
    journey = spec if isinstance(spec, Spec) or spec is None else load_spec(spec)
    data = journey.data if journey is not None else None
    source = events if events is not None else (data.events if data is not None else None)
    if source is None:
        raise OptionsError(
            "no events given",
            hint="give the events file or database URL, or a spec whose `data.events` names it",
            code="no-events",
        )
    given = reading_options(options, values)
    if data is not None:
        base = data.reading()
        if events is not None:
            base = base.model_copy(update={"table": None, "format": None, "delimiter": None})
        given = given.over(base)
    con = connect(given.engine)
    log = read_events(source, given, connection=con, every_row_is=every_row_is)
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
