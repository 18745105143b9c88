"""The self-contained HTML report: a list of sections, each rendering one analysis."""

from journeys.report.build import build_report, write_report

__all__ = ["build_report", "write_report"]
