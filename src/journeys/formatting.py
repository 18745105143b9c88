"""Numbers as a person reads them, shared by the CLI, the figures and the report."""

from __future__ import annotations

import datetime
import math


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


def significant(value: float, digits: int = 3, sign: bool = False) -> str:
    """``value`` to ``digits`` significant digits, never in scientific notation.

    Whole numbers are kept whole (a cost of 14,812 stays 14,812, not 1.48e+04); smaller
    numbers keep ``digits`` significant digits without trailing zeros (0.751, 0.00123).

    Examples
    --------
    >>> significant(14800.0), significant(0.0012345), significant(70.64, sign=True)
    ('14,800', '0.00123', '+70.6')
    """
    plus = "+" if sign else ""
    if value == 0 or not math.isfinite(value):
        return f"{value:{plus}.0f}" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:{plus},.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
