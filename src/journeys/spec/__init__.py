"""The journey spec: models, YAML loading with located errors, JSON Schema."""

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
