"""`journeys validate`: one verdict, and every problem at its line and column.

Problems go to stderr (errors, then warnings), each as ``FILE:LINE:COLUMN: severity:``;
stdout ends with the one verdict, so that stdout never says "valid" while an error was
printed. The counts of events and customers claimed twice are checked against a plain
Python count over the rows the test writes.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from journeys.cli.app import app
from journeys.loading import load

# customer, event, timestamp, plan, country
ROWS = [
    ("c1", "visit", "2024-01-01 10:00", "team", "fr"),
    ("c1", "trial_start", "2024-01-02 10:00", "team", "fr"),
    ("c1", "purchase", "2024-01-05 10:00", "team", "fr"),
    ("c2", "visit", "2024-01-01 11:00", "team", "us"),
    ("c2", "trial_start", "2024-01-03 11:00", "team", "us"),
    ("c3", "visit", "2024-01-02 09:00", "solo", "de"),
    ("c3", "trial_start", "2024-01-04 09:00", "solo", "fr"),
    ("c3", "purchase", "2024-01-06 09:00", "solo", "fr"),
    ("c4", "visit", "2024-01-02 12:00", "team", "de"),
    ("c4", "trial_start", "2024-01-02 13:00", "team", "fr"),
    ("c5", "visit", "2024-01-03 08:00", "solo", "us"),
]

JOURNEY = """\
name: Trials
data:
  events: events.csv
stages:
  - {id: visit, name: Visit}
  - {id: trial, name: Trial}
  - {id: buy, name: Buy}
touchpoints:
  - {id: site, name: Site, stage: visit, events: [visit]}
  - {id: trial, name: Trial, stage: trial, events: [trial_start]}
  - {id: order, name: Order, stage: buy, events: purchase}
milestones:
  - {id: purchase, name: Purchase, events: [purchase]}
"""


def write(folder: Path, spec: str, rows: list[tuple[str, ...]] = ROWS) -> Path:
    with (folder / "events.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["user_id", "event", "timestamp", "plan", "country"])
        writer.writerows(rows)
    path = folder / "journey.yaml"
    path.write_text(spec)
    return path


def validate(*args: str) -> Result:
    return CliRunner().invoke(app, ["validate", *args])


def line_of(spec: str, text: str, occurrence: int = 1) -> tuple[int, int]:
    """The 1-based line and column of the n-th occurrence of ``text`` in the spec."""
    seen = 0
    for number, line in enumerate(spec.splitlines(), start=1):
        start = line.find(text)
        while start != -1:
            seen += 1
            if seen == occurrence:
                return number, start + 1
            start = line.find(text, start + 1)
    raise AssertionError(f"{text!r} not in the spec")


def first_events() -> dict[str, tuple[str, ...]]:
    """Each customer's first row: a persona reads its columns there."""
    first: dict[str, tuple[str, ...]] = {}
    for row in sorted(ROWS, key=lambda row: row[2]):
        first.setdefault(row[0], row)
    return first


def verdict(result: Result) -> str:
    """The last line of stdout, which must be the verdict."""
    return result.stdout.splitlines()[-1]


def problem_lines(result: Result, severity: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if f": {severity}: " in line]


def test_a_valid_spec_and_its_data(tmp_path: Path) -> None:
    spec = write(tmp_path, JOURNEY)
    result = validate(str(spec))
    assert result.exit_code == 0, result.output
    assert verdict(result) == f"{spec}: valid (3 stages, 3 touchpoints, 0 personas, 1 milestone)"
    assert "events: 11 used, 0 events match no touchpoint" in result.stdout
    assert problem_lines(result, "warning") == problem_lines(result, "error") == []


def test_warnings_are_located_and_counted_in_the_verdict(tmp_path: Path) -> None:
    text = JOURNEY.replace(
        "  - {id: buy, name: Buy}\n", "  - {id: buy, name: Buy}\n  - {id: loyal, name: Loyal}\n"
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    line, column = line_of(text, "loyal")
    assert problem_lines(result, "warning") == [
        f"{spec}:{line}:{column}: warning: stage 'loyal' has no touchpoint, so no customer "
        "reaches it; add a touchpoint with `stage: loyal` (stages.3.id) [empty-stage]"
    ]
    assert verdict(result) == (
        f"{spec}: valid with 1 warning (4 stages, 3 touchpoints, 0 personas, 1 milestone)"
    )


def test_errors_give_one_verdict_not_valid_and_exit_code_2(tmp_path: Path) -> None:
    text = JOURNEY.replace("stage: buy", "stage: checkout").replace("name: Site,", "nam: Site,")
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 2
    errors = problem_lines(result, "error")
    assert len(errors) == 2
    assert all(line.startswith(f"{spec}:") for line in errors)
    assert result.stdout.splitlines() == [f"{spec}: not valid: 2 errors"]
    assert "Traceback" not in result.output


def test_a_file_that_cannot_be_read_is_an_error_of_the_verdict(tmp_path: Path) -> None:
    result = validate(str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'missing.yaml'}: error: the file does not exist [no-file]" in result.stderr
    assert "hint: check the path" in result.stderr
    assert result.stdout.splitlines() == [f"{tmp_path / 'missing.yaml'}: not valid: 1 error"]


def test_events_that_cannot_be_read_make_the_spec_not_valid(tmp_path: Path) -> None:
    """The spec alone is valid, the data is not: stdout must not say valid."""
    spec = write(tmp_path, JOURNEY.replace("events: events.csv", "events: elsewhere.csv"))
    result = validate(str(spec))
    assert result.exit_code == 2
    assert "error: " in result.stderr
    assert "elsewhere.csv" in result.stderr
    assert result.stdout.splitlines() == [f"{spec}: not valid: 1 error"]


@pytest.mark.parametrize(
    ("written", "replaces", "kind"),
    [
        ("[404, 500]", "[trial_start]", "a number"),
        ("2024", "trial", "a number"),
        ("1.50", "trial", "a number"),
        ("true", "trial", "a truth value"),
        ("2024-01-01", "trial", "a date"),
    ],
    ids=["event-numbers", "id-number", "id-float", "id-bool", "id-date"],
)
def test_numbers_where_names_are_expected_say_to_quote_them(
    tmp_path: Path, written: str, replaces: str, kind: str
) -> None:
    old = "{id: trial, name: Trial, stage: trial, events: [trial_start]}"
    new = old.replace(f"id: {replaces}", f"id: {written}").replace(
        f"events: {replaces}", f"events: {written}"
    )
    assert new != old
    text = JOURNEY.replace(old, new)
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 2
    errors = problem_lines(result, "error")
    values = written.strip("[]").split(", ")
    assert len(errors) == len(values)
    for value, error in zip(values, errors, strict=True):
        line, column = line_of(text, value)
        assert error.startswith(f"{spec}:{line}:{column}: error: text is needed here, ")
        assert f"YAML reads {value} as {kind}: quote it ('{value}')" in error
        assert error.endswith("[not-text]")
    assert verdict(result) == f"{spec}: not valid: {len(values)} error{'s' * (len(values) > 1)}"


def test_an_event_that_never_occurs_is_located_with_the_closest_names(tmp_path: Path) -> None:
    text = JOURNEY.replace("events: [trial_start]", "events: [trial_strat]").replace(
        "events: [purchase]}", "events: [purchase, purchace]}"
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    warnings = problem_lines(result, "warning")
    line, column = line_of(text, "trial_strat")
    assert (
        f"{spec}:{line}:{column}: warning: event 'trial_strat' of touchpoint 'trial' never "
        "occurs in the data, so the touchpoint matches no event; did you mean 'trial_start'? "
        "(touchpoints.1.events.0) [unknown-event]"
    ) in warnings
    line, column = line_of(text, "purchace")
    assert (
        f"{spec}:{line}:{column}: warning: event 'purchace' of milestone 'purchase' never "
        "occurs in the data; did you mean 'purchase'? (milestones.0.events.1) [unknown-event]"
    ) in warnings
    assert len(warnings) == 2
    assert verdict(result).startswith(f"{spec}: valid with 2 warnings (")


def test_a_persona_no_customer_matches_points_at_the_value(tmp_path: Path) -> None:
    text = (
        JOURNEY + "personas:\n  - {id: team, name: Team, where: [{column: plan, equals: teams}]}\n"
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    line, column = line_of(text, "teams")
    assert problem_lines(result, "warning") == [
        f"{spec}:{line}:{column}: warning: persona 'team' matches no customer: no customer has "
        "plan = 'teams'; did you mean 'team'? (personas.0.where.0.equals) [empty-persona]"
    ]
    customers = {row[0] for row in ROWS}
    assert f"personas: {len(customers)} customers match none (unassigned)" in result.stdout


def test_a_persona_column_the_data_lacks_names_the_files_columns(tmp_path: Path) -> None:
    text = JOURNEY + (
        "personas:\n"
        "  - {id: team, name: Team, where: [{column: plann, equals: team}]}\n"
        "  - {id: one, name: One, where: [{column: user_id, equals: c1}]}\n"
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 2
    errors = problem_lines(result, "error")
    assert len(errors) == 2
    line, column = line_of(text, "plann")
    assert errors[0].startswith(
        f"{spec}:{line}:{column}: error: persona 'team' has a condition on column 'plann', "
        f"which {tmp_path / 'events.csv'} does not have; its columns are: "
        "customer_id (the file's user_id), timestamp, event, plan, country; "
        "did you mean 'plan'?"
    )
    for internal in ("timestamp_us", "position", "previous_event", "next_event", "since_previous"):
        assert internal not in result.stderr
    line, column = line_of(text, "user_id", occurrence=1)
    assert errors[1].startswith(f"{spec}:{line}:{column}: error: persona 'one'")
    assert "'user_id' is read as the customer id: write 'customer_id'" in errors[1]
    assert verdict(result) == f"{spec}: not valid: 2 errors"


def test_a_touchpoint_condition_on_a_missing_column_is_located(tmp_path: Path) -> None:
    old = "events: [trial_start]}"
    text = JOURNEY.replace(old, "events: [trial_start], where: [{column: contry, equals: fr}]}")
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 2
    line, column = line_of(text, "contry")
    (error,) = problem_lines(result, "error")
    assert error.startswith(
        f"{spec}:{line}:{column}: error: touchpoint 'trial' has a condition on column 'contry'"
    )
    assert "did you mean 'country'?" in error


def test_an_event_claimed_by_two_touchpoints_goes_to_the_first(tmp_path: Path) -> None:
    text = JOURNEY.replace(
        "  - {id: order, name: Order, stage: buy, events: purchase}\n",
        "  - {id: order, name: Order, stage: buy, events: [purchase, trial_start]}\n",
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    warnings = problem_lines(result, "warning")
    later, column = line_of(text, "trial_start", occurrence=2)
    first, _ = line_of(text, "{id: trial, name: Trial, stage")
    assert (
        f"{spec}:{later}:{column}: warning: touchpoint 'order' lists event 'trial_start', which "
        "touchpoint 'trial' lists too: an event goes to the first touchpoint in the spec that "
        "matches it, and 'trial' has no conditions, so it takes every 'trial_start' event and "
        f"'order' never gets one (touchpoint 'trial' is at line {first}) "
        "(touchpoints.2.events.1) [shared-event]"
    ) in warnings
    # What the warning says is what the mapping does.
    mapped = load(spec=spec).table.to_pandas()
    trials = mapped[mapped.event == "trial_start"]
    assert set(trials.touchpoint) == {"trial"}
    assert len(trials) == sum(row[1] == "trial_start" for row in ROWS)


def test_events_meeting_two_touchpoints_conditions_are_counted(tmp_path: Path) -> None:
    text = JOURNEY.replace(
        "  - {id: trial, name: Trial, stage: trial, events: [trial_start]}\n",
        "  - {id: trial_team, name: Team trial, stage: trial, events: [trial_start],"
        " where: [{column: plan, equals: team}]}\n"
        "  - {id: trial_fr, name: French trial, stage: trial, events: [trial_start],"
        " where: [{column: country, equals: fr}]}\n",
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    both = sum(row[1] == "trial_start" and row[3] == "team" and row[4] == "fr" for row in ROWS)
    assert both == 2
    line, column = line_of(text, "trial_fr")
    first, _ = line_of(text, "trial_team")
    assert (
        f"{spec}:{line}:{column}: warning: {both} events meet the events and conditions of both "
        "touchpoint 'trial_team' and touchpoint 'trial_fr': an event goes to the first "
        "touchpoint in the spec that matches it, so 'trial_team' gets them "
        f"(touchpoint 'trial_team' is at line {first}) (touchpoints.2.id) "
        "[overlapping-touchpoints]"
    ) in problem_lines(result, "warning")


def test_customers_matching_two_personas_are_counted_per_pair(tmp_path: Path) -> None:
    personas = (
        "personas:\n"
        "  - {id: team, name: Team, where: [{column: plan, equals: team}]}\n"
        "  - {id: europe, name: Europe, where: [{column: country, in: [fr, de]}]}\n"
        "  - {id: french, name: French, where: [{column: country, equals: fr}]}\n"
    )
    text = JOURNEY + personas
    spec = write(tmp_path, text)
    result = validate(str(spec))
    assert result.exit_code == 0
    first = first_events()
    tests = {
        "team": lambda row: row[3] == "team",
        "europe": lambda row: row[4] in {"fr", "de"},
        "french": lambda row: row[4] == "fr",
    }
    names = list(tests)
    expected = {}
    for later in range(len(names)):
        for earlier in range(later):
            count = sum(
                tests[names[earlier]](row) and tests[names[later]](row) for row in first.values()
            )
            if count:
                expected[(names[earlier], names[later])] = count
    assert expected == {("team", "europe"): 2, ("team", "french"): 1, ("europe", "french"): 1}
    warnings = [line for line in problem_lines(result, "warning") if "overlapping" in line]
    assert len(warnings) == len(expected)
    for (winner, loser), count in expected.items():
        line, column = line_of(text, f"id: {loser}")
        at, _ = line_of(text, f"id: {winner}")
        match = "1 customer matches" if count == 1 else f"{count} customers match"
        assert (
            f"{spec}:{line}:{column + 4}: warning: {match} both persona '{winner}' "
            f"and persona '{loser}': a customer gets the first persona in the spec that "
            f"matches, so they are '{winner}' (persona '{winner}' is at line {at}) "
            f"(personas.{names.index(loser)}.id) [overlapping-personas]"
        ) in warnings
    # The first persona wins in the mapping, as the warning says.
    mapped = load(spec=spec).table.to_pandas().drop_duplicates("customer_id")
    assigned = dict(zip(mapped.customer_id, mapped.persona, strict=True))
    for customer, row in first.items():
        matching = [name for name in names if tests[name](row)]
        assert assigned[customer] == (matching[0] if matching else "unassigned")


def test_a_persona_whose_customers_all_match_an_earlier_one(tmp_path: Path) -> None:
    text = JOURNEY + (
        "personas:\n"
        "  - {id: europe, name: Europe, where: [{column: country, in: [fr, de]}]}\n"
        "  - {id: french, name: French, where: [{column: country, equals: fr}]}\n"
    )
    spec = write(tmp_path, text)
    result = validate(str(spec))
    french = sum(row[4] == "fr" for row in first_events().values())
    assert french == 1
    line, column = line_of(text, "id: french")
    assert (
        f"{spec}:{line}:{column + 4}: warning: persona 'french' matches no customer: every "
        f"customer who meets its conditions ({french}) matches an earlier persona (a customer "
        "gets the first persona in the spec that matches) (personas.1.id) [empty-persona]"
    ) in problem_lines(result, "warning")


def test_stdout_never_says_valid_when_an_error_was_printed(tmp_path: Path) -> None:
    """A valid run, events that cannot be read, a folder: the verdict follows the problems."""
    spec = write(tmp_path, JOURNEY)
    cases = [
        validate(str(spec)),
        validate(str(spec), "--events", str(tmp_path / "none.csv")),
        validate(str(tmp_path)),
    ]
    for result in cases:
        errors = problem_lines(result, "error") + [
            line for line in result.stderr.splitlines() if line.startswith("error: ")
        ]
        said = verdict(result)
        assert (": valid" in said) == (not errors) == (result.exit_code == 0), result.output
        assert (
            sum(": valid" in line or ": not valid" in line for line in result.stdout.splitlines())
            == 1
        )
    assert Counter(result.exit_code for result in cases) == Counter({0: 1, 2: 2})


def test_a_touchpoint_whose_conditions_hold_for_no_event(tmp_path: Path) -> None:
    old = "events: [trial_start]}"
    text = JOURNEY.replace(old, "events: [trial_start], where: [{column: plan, equals: pro}]}")
    spec = write(tmp_path, text)
    assert not any(row[1] == "trial_start" and row[3] == "pro" for row in ROWS)
    result = validate(str(spec))
    assert result.exit_code == 0
    line, column = line_of(text, "id: trial, name: Trial, stage")
    assert problem_lines(result, "warning") == [
        f"{spec}:{line}:{column + 4}: warning: touchpoint 'trial' gets no event: its events occur in "
        "the data, but its conditions hold for none of them, or an earlier touchpoint takes them "
        "all (an event goes to the first touchpoint in the spec that matches it) "
        "(touchpoints.1.id) [touchpoint-without-events]"
    ]
    unmapped = sum(row[1] == "trial_start" for row in ROWS)
    assert f"events: {len(ROWS)} used, {unmapped} events match no touchpoint" in result.stdout


def test_personas_read_from_a_customers_table(tmp_path: Path) -> None:
    segments = {"c1": "smb", "c2": "smb", "c3": "enterprise", "c4": "smb", "c9": "smb"}
    (tmp_path / "customers.csv").write_text(
        "id,segment,size\n" + "".join(f"{c},{s},{i}\n" for i, (c, s) in enumerate(segments.items()))
    )
    customers = "  customers: {source: customers.csv, customer_id: id}\n"
    text = JOURNEY.replace("  events: events.csv\n", "  events: events.csv\n" + customers)
    wrong = (
        text + "personas:\n  - {id: small, name: Small, where: [{column: segmnt, equals: smb}]}\n"
    )
    spec = write(tmp_path, wrong)
    result = validate(str(spec))
    assert result.exit_code == 2
    line, column = line_of(wrong, "segmnt")
    (error,) = problem_lines(result, "error")
    assert error.startswith(
        f"{spec}:{line}:{column}: error: persona 'small' has a condition on column 'segmnt', "
        f"which {tmp_path / 'customers.csv'} does not have; its columns are: "
        "customer_id (the file's id), segment, size; "
        "did you mean 'segment'?"
    )
    right = text + (
        "personas:\n"
        "  - {id: small, name: Small, where: [{column: segment, equals: smb}]}\n"
        "  - {id: first, name: First, where: [{column: size, in: [0, 1, 2, 3, 4]}]}\n"
    )
    spec = write(tmp_path, right)
    result = validate(str(spec))
    assert result.exit_code == 0
    with_events = {row[0] for row in ROWS}
    both = sum(
        segment == "smb" and index <= 4 and customer in with_events
        for index, (customer, segment) in enumerate(segments.items())
    )
    assert both == 3  # c9 has no events: it is no customer of the data
    line, column = line_of(right, "id: first")
    assert any(
        line_text.startswith(
            f"{spec}:{line}:{column + 4}: warning: {both} customers match both "
            "persona 'small' and persona 'first'"
        )
        for line_text in problem_lines(result, "warning")
    )
    unassigned = len(with_events - set(segments))
    assert f"personas: {unassigned} customer matches none (unassigned)" in result.stdout
