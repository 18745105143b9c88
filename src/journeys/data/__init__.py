"""Reading events: sources, column mapping, checks, and the choice of engine."""

from journeys.data.engine import connect
from journeys.data.reader import EventLog, LoadReport, read_customers, read_events

__all__ = ["EventLog", "LoadReport", "connect", "read_customers", "read_events"]
