"""The paths that attribution splits conversions over, built in the engine.

From events (:func:`event_paths`): each customer's events are cut after every conversion
(an event matching the conversion step), so that a conversion's path holds the touches
since the customer's previous conversion. A touch is an event with a label at the chosen
level (touchpoint, channel, stage or event) that is not itself a conversion and whose
label is not excluded. A conversion's path keeps the touches within the lookback before it;
the touches after a customer's last conversion (or of a customer who never converted) make
a non-converting path, which keeps the touches within the lookback before the last of them.
Then, in this order, immediate repeats are collapsed (when asked) and only the last
``max_length`` touches are kept (when asked). A conversion without any touch left counts
among the conversions without touches and enters no model. Time-decay weights are computed
on the same touches: ``2 ** (-(conversion time - touch time) / half_life)``, normalised
within each conversion.

From a file (:func:`file_paths`): one row per path (``a > b > c``) with its conversions and,
optionally, its conversion value and non-conversions, as in ChannelAttribution's examples.

Both return :class:`EnginePaths`: the distinct paths with their counts (the small
aggregate the models run on) and what was left out on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from journeys.analyses import runner
from journeys.analyses.attribution_models import PathSet
from journeys.analyses.matching import Matcher
from journeys.data.engine import connect
from journeys.data.options import Format
from journeys.data.reader import EventLog
from journeys.data.sources import Source, describe, open_table
from journeys.errors import DataError, OptionsError
from journeys.report.display import counted

#: ChannelAttribution's column names, used when a file has them and no other is named.
VALUE_COLUMN = "total_conversion_value"
NULL_COLUMN = "total_null"


@dataclass(frozen=True)
class EnginePaths:
    """The distinct paths and their counts, and the numbers about how they were made."""

    paths: PathSet
    has_value: bool
    conversions_without_touches: float = 0.0
    value_without_touches: float = 0.0
    left_out: dict[str, int] = field(default_factory=dict)
    time_decay: pd.DataFrame | None = None


@dataclass(frozen=True)
class PathRules:
    """How paths are made from events (see the module's description)."""

    conversion: str
    level: str
    lookback_us: int | None
    collapse_repeats: bool
    max_length: int | None
    exclude: tuple[str, ...]
    half_life_us: int


def _label(events: EventLog, level: str) -> ibis.Value:
    table = events.table
    if level == "event":
        return table.event.cast("string")
    if level == "channel":
        if events.spec is not None and "touchpoint_channel" in table.columns:
            return table.touchpoint_channel.cast("string")
        if "channel" in table.columns:
            return table.channel.cast("string")
        raise OptionsError(
            "paths by channel need the touchpoints' channels or a channel column",
            hint="pass --spec SPEC whose touchpoints name their channel, or --channel-col COL",
            code="needs-spec",
        )
    events.require_spec(f"attribution by {level}")
    return table[level].cast("string")


def event_paths(events: EventLog, rules: PathRules) -> EnginePaths:
    """Paths of touches before each conversion, and non-converting paths, from events."""
    table = events.table
    converts = Matcher(events).predicate(rules.conversion)
    label = _label(events, rules.level)
    worth = table.value.cast("float64").fill_null(0.0) if events.has_value else ibis.literal(0.0)
    rows = table.select(
        "customer_id",
        "timestamp_us",
        event=table.event,
        node=label,
        converts=converts.fill_null(False),
        worth=worth,
    )
    order = ["timestamp_us", "event"]
    upto = ibis.window(group_by="customer_id", order_by=order, preceding=None, following=0)
    flag = rows.converts.cast("int64")
    rows = rows.mutate(segment=flag.sum().over(upto) - flag)
    candidate = ~rows.converts & rows.node.notnull()
    excluded = rows.node.isin(list(rules.exclude)) if rules.exclude else ibis.literal(False)
    touch = candidate & ~excluded
    segment = ibis.window(group_by=["customer_id", "segment"])
    rows = rows.mutate(
        candidate=candidate,
        touch=touch,
        conversion_us=ibis.cases((rows.converts, rows.timestamp_us)).max().over(segment),
        conversion_value=ibis.cases((rows.converts, rows.worth), else_=0.0).sum().over(segment),
        last_touch_us=ibis.cases((touch, rows.timestamp_us)).max().over(segment),
    )
    end = rows.conversion_us.fill_null(rows.last_touch_us)
    inside = ibis.literal(True)
    if rules.lookback_us is not None:
        inside = rows.timestamp_us >= end - rules.lookback_us
    # Both the paths and the count of what was left out read these: computed once.
    rows = runner.current().cached(rows.mutate(inside=inside))
    touches = rows.filter(rows.touch & rows.inside)
    within = ibis.window(group_by=["customer_id", "segment"], order_by=order)
    if rules.collapse_repeats:
        touches = touches.mutate(previous=touches.node.lag().over(within))
        touches = touches.filter(touches.previous.isnull() | (touches.previous != touches.node))
    if rules.max_length is not None:
        latest = ibis.window(
            group_by=["customer_id", "segment"], order_by=[ibis.desc(key) for key in order]
        )
        touches = touches.mutate(from_end=ibis.row_number().over(latest))
        touches = touches.filter(touches.from_end < rules.max_length)
    touches = runner.current().cached(
        touches.mutate(place=ibis.row_number().over(within)).select(
            "customer_id",
            "segment",
            "timestamp_us",
            "node",
            "place",
            "conversion_us",
            "conversion_value",
        )
    )
    counts = _left_out(rows, touches, rules)
    grouped = touches.group_by(["customer_id", "segment"]).aggregate(
        path=ibis.struct({"place": touches.place, "node": touches.node})
        .collect()
        .sort()
        .map(lambda item: item.node),
        converted=touches.conversion_us.max().notnull().cast("int64"),
        value=touches.conversion_value.max(),
    )
    distinct = grouped.group_by("path").aggregate(
        conversions=grouped.converted.sum(),
        value=(grouped.value * grouped.converted).sum(),
        nulls=(1 - grouped.converted).sum(),
    )
    found = runner.current().arrow(distinct)
    paths = PathSet.from_arrow(
        found.column("path"),
        found.column("conversions").to_numpy(zero_copy_only=False),
        found.column("value").to_numpy(zero_copy_only=False),
        found.column("nulls").to_numpy(zero_copy_only=False),
    )
    return EnginePaths(
        paths=paths,
        has_value=events.has_value,
        conversions_without_touches=counts.pop("conversions") - float(paths.conversions.sum()),
        value_without_touches=counts.pop("value") - float(paths.value.sum()),
        left_out={key: int(count) for key, count in counts.items()},
        time_decay=_time_decay(touches, rules.half_life_us),
    )


def _left_out(rows: ibis.Table, touches: ibis.Table, rules: PathRules) -> dict[str, float]:
    """Every conversion and its value, and the events left out of the paths, by reason."""
    excluded = rows.candidate & ~rows.touch
    before = rows.touch & ~rows.inside
    totals = rows.aggregate(
        conversions=rows.converts.cast("int64").sum(),
        value=ibis.cases((rows.converts, rows.worth), else_=0.0).sum(),
        candidates=rows.candidate.cast("int64").sum(),
        excluded=excluded.cast("int64").sum(),
        before=before.cast("int64").sum(),
        unlabelled=(~rows.converts & rows.node.isnull()).cast("int64").sum(),
    )
    found = runner.current().frame(totals).iloc[0]
    kept = int(runner.current().scalar(touches.count()))
    inside = int(found["candidates"] - found["excluded"] - found["before"])
    counts: dict[str, float] = {
        "conversions": float(found["conversions"] or 0),
        "value": float(found["value"] or 0.0),
        f"events without a {rules.level}": int(found["unlabelled"] or 0),
        f"excluded {rules.level}s": int(found["excluded"] or 0),
        "before the lookback": int(found["before"] or 0),
    }
    shortened = "repeats collapsed" if rules.collapse_repeats else None
    if rules.max_length is not None:
        shortened = (
            "repeats collapsed or beyond the length cap" if shortened else "beyond the length cap"
        )
    if shortened is not None:
        counts[shortened] = inside - kept
    return counts


def _time_decay(touches: ibis.Table, half_life_us: int) -> pd.DataFrame:
    """Per label, the conversions and value the time-decay model gives it."""
    converting = touches.filter(touches.conversion_us.notnull())
    age = (converting.conversion_us - converting.timestamp_us).cast("float64")
    weighted = converting.mutate(weight=(-age / half_life_us * np.log(2.0)).exp())
    total = weighted.weight.sum().over(ibis.window(group_by=["customer_id", "segment"]))
    shares = weighted.mutate(share=weighted.weight / total)
    per_label = shares.group_by("node").aggregate(
        conversions=shares.share.sum(),
        value=(shares.share * shares.conversion_value).sum(),
    )
    return runner.current().frame(per_label).rename(columns={"node": "channel"})


@dataclass(frozen=True)
class FileColumns:
    """Which columns of a paths file hold what, and how a path is written."""

    path: str = "path"
    conversions: str = "total_conversions"
    value: str | None = None
    nulls: str | None = None
    path_separator: str = ">"


def file_paths(
    source: Source,
    columns: FileColumns,
    *,
    delimiter: str | None = None,
    format: Format | None = None,
    connection: BaseBackend | None = None,
) -> EnginePaths:
    """Paths from a table of distinct paths (a CSV or Parquet file, or a table in memory)."""
    con = connection if connection is not None else connect()
    name = describe(source, format)
    raw = open_table(con, source, format=format, delimiter=delimiter)
    value = columns.value or (VALUE_COLUMN if VALUE_COLUMN in raw.columns else None)
    nulls = columns.nulls or (NULL_COLUMN if NULL_COLUMN in raw.columns else None)
    wanted = {"path": columns.path, "conversions": columns.conversions}
    wanted |= {"value": value} if value else {}
    wanted |= {"nulls": nulls} if nulls else {}
    missing = [column for column in wanted.values() if column not in raw.columns]
    if missing:
        raise DataError(
            f"{name} has no column {', '.join(repr(c) for c in missing)}; its columns are: "
            f"{', '.join(raw.columns)}",
            hint="name the columns with --path-col, --conversions-col, --conversion-value-col "
            "and --null-col",
            code="missing-column",
        )
    text = raw[columns.path].cast("string").fill_null("").strip()
    rows = raw.select(
        text=text,
        conversions=_number(raw, wanted["conversions"]),
        value=_number(raw, value),
        nulls=_number(raw, nulls),
    )
    # Rows of the same path are added up first: the models need each distinct path once.
    negative = (rows.conversions < 0) | (rows.value < 0) | (rows.nulls < 0)
    missing = rows.conversions.isnull() | rows.nulls.isnull()
    grouped = rows.group_by("text").aggregate(
        conversions=rows.conversions.sum(),
        value=rows.value.sum(),
        nulls=rows.nulls.sum(),
        negative=negative.fill_null(False).cast("int64").sum(),
        missing=missing.cast("int64").sum(),
    )
    table = grouped.select(
        path=_split(grouped.text, columns.path_separator, con.name),
        blank=grouped.text == "",
        conversions=grouped.conversions.fill_null(0.0),
        value=grouped.value.fill_null(0.0),
        nulls=grouped.nulls.fill_null(0.0),
        negative=grouped.negative,
        missing=grouped.missing,
    )
    return _checked_file_paths(runner.current().arrow(table), name, has_value=value is not None)


def _split(column: ibis.Value, separator: str, engine: str) -> ibis.Value:
    """A path's text as its steps (with the spaces around them, trimmed in Arrow after)."""
    text = column.cast("string")
    mark = separator.strip() or separator
    # DuckDB splits on plain text faster than on a pattern; Spark only splits on patterns.
    return text.split(mark) if engine == "duckdb" else text.re_split(re.escape(mark))


def _number(raw: ibis.Table, column: str | None) -> ibis.Value:
    return ibis.literal(0.0) if column is None else raw[column].cast("float64")


def _checked_file_paths(table: pa.Table, name: str, *, has_value: bool) -> EnginePaths:
    """The paths of a file's rows, once no row has a gap, a negative or a missing count."""
    blank = table.column("blank").combine_chunks()
    steps = pc.filter(table.column("path"), pc.invert(blank)).combine_chunks()
    offsets = steps.offsets
    paths = pa.ListArray.from_arrays(
        pc.subtract(offsets, offsets[0]), pc.utf8_trim_whitespace(steps.flatten())
    )
    numbers = {key: table.column(key) for key in ("conversions", "value", "nulls")}
    gaps = pc.list_parent_indices(paths).filter(pc.equal(paths.flatten(), ""))
    problems = {
        ("path", "an empty step (two separators in a row, or one at an end)"): len(pc.unique(gaps)),
        ("row", "negative counts or values"): int(pc.sum(table.column("negative")).as_py() or 0),
        ("row", "conversions or non-conversions that are not numbers"): int(
            pc.sum(table.column("missing")).as_py() or 0
        ),
    }
    for (noun, what), count in problems.items():
        if count:
            raise DataError(
                f"{name}: {counted(count, noun)} {'has' if count == 1 else 'have'} {what}",
                hint="correct those rows of the file",
                code="paths",
            )
    kept = {key: pc.filter(column, pc.invert(blank)) for key, column in numbers.items()}
    left = {key: pc.filter(column, blank) for key, column in numbers.items()}
    paths = PathSet.from_arrow(
        paths,
        kept["conversions"].to_numpy(),
        kept["value"].to_numpy(),
        kept["nulls"].to_numpy(),
    )
    return EnginePaths(
        paths=paths,
        has_value=has_value,
        conversions_without_touches=float(pc.sum(left["conversions"]).as_py() or 0.0),
        value_without_touches=float(pc.sum(left["value"]).as_py() or 0.0),
    )
