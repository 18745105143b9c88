"""The journey spec: models, YAML loading with located errors, checks, JSON Schema.

Names are resolved on first use, so that a section owned by an analysis can import
:mod:`journeys.spec.base` without loading the whole spec first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Columns": "journeys.data.options",
    "load_spec": "journeys.spec.loader",
    "parse_spec": "journeys.spec.loader",
    "spec_json_schema": "journeys.spec.loader",
    "Condition": "journeys.spec.models",
    "Customers": "journeys.spec.models",
    "DataSource": "journeys.spec.models",
    "Milestone": "journeys.spec.models",
    "Persona": "journeys.spec.models",
    "Spec": "journeys.spec.models",
    "Stage": "journeys.spec.models",
    "Touchpoint": "journeys.spec.models",
}

__all__ = [
    "Columns",
    "Condition",
    "Customers",
    "DataSource",
    "Milestone",
    "Persona",
    "Spec",
    "Stage",
    "Touchpoint",
    "load_spec",
    "parse_spec",
    "spec_json_schema",
]

if TYPE_CHECKING:
    from journeys.data.options import Columns
    from journeys.spec.loader import load_spec, parse_spec, spec_json_schema
    from journeys.spec.models import (
        Condition,
        Customers,
        DataSource,
        Milestone,
        Persona,
        Spec,
        Stage,
        Touchpoint,
    )


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'journeys.spec' has no attribute '{name}'")
    return getattr(importlib.import_module(_WHERE[name]), name)
