"""Where analyses hand their Ibis expressions to the engine.

Analyses build expressions and ask the current :class:`Runner` to execute them. The
runner executes each distinct expression once (a report that asks for the same
aggregate twice gets it from memory), can print the SQL of every query before it
runs (``--show-sql``), and counts the queries. Outside a ``with Runner(...)`` block,
a runner without memory executes directly.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

_CURRENT: ContextVar[Runner | None] = ContextVar("journeys_runner", default=None)


@dataclass
class Runner:
    """Executes expressions once each; optionally shows their SQL.

    Parameters
    ----------
    show_sql
        Called with the SQL of each query before it runs (the CLI prints it).
    remember
        Keep results so that an identical expression is not executed twice.
    """

    show_sql: Callable[[str], None] | None = None
    remember: bool = True
    queries: int = 0
    _memory: dict[tuple[str, Any], Any] = field(default_factory=dict, repr=False)
    _token: Token[Runner | None] | None = field(default=None, repr=False)

    def __enter__(self) -> Runner:
        self._token = _CURRENT.set(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None

    def _once(self, kind: str, expression: ibis.Expr, execute: Callable[[], Any]) -> Any:
        key = (kind, expression.op())
        if self.remember and key in self._memory:
            return self._memory[key]
        if self.show_sql is not None:
            self.show_sql(_sql(expression))
        self.queries += 1
        value = execute()
        if self.remember:
            self._memory[key] = value
        return value

    def frame(self, expression: ibis.Table) -> pd.DataFrame:
        """A table expression's rows as a DataFrame (results are small aggregates)."""
        frame: pd.DataFrame = self._once("frame", expression, expression.to_pandas)
        return frame.copy()

    def arrow(self, expression: ibis.Table) -> pa.Table:
        """A table expression's rows as a pyarrow Table."""
        table: pa.Table = self._once("arrow", expression, expression.to_pyarrow)
        return table

    def scalar(self, expression: ibis.Scalar) -> Any:
        """A scalar expression's value as a Python value."""
        return self._once("scalar", expression, lambda: _python(expression.execute()))

    def cached(self, expression: ibis.Table) -> ibis.Table:
        """A table expression materialised in the engine, for several queries to read."""
        table: ibis.Table = self._once("cached", expression, expression.cache)
        return table


def current() -> Runner:
    """The runner in effect (one without memory outside a ``with Runner()`` block)."""
    runner = _CURRENT.get()
    return runner if runner is not None else Runner(remember=False)


def _sql(expression: ibis.Expr) -> str:
    try:
        return str(ibis.to_sql(expression))
    except Exception as error:  # an engine without a SQL dialect still runs
        return f"-- (no SQL for this query: {type(error).__name__})"


def _python(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value
