"""What every analysis result offers: tables for pandas and Arrow, JSON, a figure, a display."""

from __future__ import annotations

import datetime
import json
import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


class Params(BaseModel):
    """Base of every analysis' parameters: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Result(ABC):
    """A finished analysis: its main table, its JSON form and its figure."""

    @abstractmethod
    def to_pandas(self) -> pd.DataFrame:
        """The main table of the result."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (the JSON that the CLI prints)."""

    @abstractmethod
    def figure(self) -> Figure:
        """The result as a Plotly figure."""

    def to_arrow(self) -> pa.Table:
        """The main table as a pyarrow Table."""
        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_json(self) -> str:
        """The result as JSON text."""
        return json.dumps(clean(self.to_dict()), indent=2)

    def _repr_html_(self) -> str:
        return str(self.to_pandas().to_html(index=False, na_rep=""))


def clean(value: Any) -> Any:
    """Plain JSON values: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(key): clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime.date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as JSON-ready dicts."""
    return [clean(row) for row in frame.to_dict(orient="records")]
