"""Errors that a user can fix: each says what is wrong, where, and what to do.

The CLI prints these without a traceback and exits non-zero. Anything else that
escapes is a bug in journeys and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class JourneysError(Exception):
    """A mistake in the user's input (spec, data or options).

    Parameters
    ----------
    message
        What is wrong and where.
    hint
        What to do about it.
    code
        A stable identifier for the rule that was broken (used by tests and tools).
    """

    code = "journeys"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a journey spec, located in its YAML file."""

    message: str
    path: str
    line: int | None = None
    column: int | None = None
    field: str = ""
    code: str = ""

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" ({self.field})" if self.field else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{where}: {self.message}{field}{code}"


class SpecError(JourneysError):
    """The journey spec is not valid; ``problems`` lists every problem found."""

    code = "spec"

    def __init__(self, problems: list[SpecProblem], *, hint: str | None = None) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the journey spec has {count} {noun}:\n{lines}", hint=hint)


class DataError(JourneysError):
    """The events (or customers) cannot be used as given."""

    code = "data"


class OptionsError(JourneysError):
    """The parameters of an analysis do not fit together or do not fit the data."""

    code = "options"
