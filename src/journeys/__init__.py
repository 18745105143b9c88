"""journeys: map a customer journey as code, measure it on your events, decide what to change."""

__version__ = "0.1.0"

from journeys.data import EventLog, LoadReport, connect, read_events
from journeys.errors import DataError, JourneysError, OptionsError, SpecError
from journeys.spec import Spec, load_spec, parse_spec

__all__ = [
    "DataError",
    "EventLog",
    "JourneysError",
    "LoadReport",
    "OptionsError",
    "Spec",
    "SpecError",
    "connect",
    "load_spec",
    "parse_spec",
    "read_events",
]
