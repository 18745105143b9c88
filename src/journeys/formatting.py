"""Numbers as a person reads them, shared by the CLI, the figures and the report."""

from __future__ import annotations

import datetime


def duration_text(seconds: float | None) -> str:
    """A duration as a person reads it: 45 s, 12 min, 3.5 h, 2.0 d."""
    if seconds is None or seconds != seconds:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def window_text(window: datetime.timedelta) -> str:
    """A window as it was most likely given: 30 days, 2 hours, 90 min; else as a duration."""
    seconds = window.total_seconds()
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return duration_text(seconds)
