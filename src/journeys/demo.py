"""The demo business behind ``make demo``: Brightdesk, a help-desk software company.

Customers find Brightdesk through ads, search, the blog and webinars, look at pricing,
ask for a demo or start a trial, buy a plan, are onboarded by the implementation team,
use the product, contact support, renew, upgrade, refer others and write reviews.
Three personas (small business, mid-market, enterprise) behave differently.

Customers pay monthly (the first payment is the purchase, then a renewal every 30 days
until they cancel). What is planted, with known answers (:data:`TRUTH`) that the tests
check the report finds:

- small businesses who start a trial rarely buy (a persona that drops off at one step);
- after a purchase, the hand-off from sales to implementation is slow: the kickoff
  call comes about nine days later (small businesses wait longer still, see below),
  while every other step takes a day or two;
- support keeps customers: after a month with a support contact a customer cancels with
  probability 4%, after a month without one 15%;
- a chatbot launched on 2025-10-01 takes more of the contacts and chats are rated higher.

The spec declares three hand-offs between departments with a service level (a welcome
e-mail within an hour of the purchase, the implementation kick-off within seven business
days, the setup within 14 days of the kick-off) and a RACI for every stage. Planted
around them:

- the welcome e-mail goes out within minutes for 90% of buyers; when the real-time
  trigger fails (6%) the next morning's batch at 06:00 UTC sends it, late; for 4% it is
  never sent;
- implementation serves its named mid-market and enterprise accounts first: small
  businesses wait in a shared queue, a further 8 days on average (exponential), so
  their kick-off breaches the seven business days far more often than the others' (the
  queue delays their onboarding and everything after it);
- a few hours after the kick-off call, 60% of buyers answer an onboarding CSAT survey
  (1-5): those whose kick-off breached its level rate it 0.8 points lower on average
  (3.2 against 4.0 before rounding to whole points);
- in March 2025 a release breaks a feature that mid-market customers use: half of the
  mid-market customers active that month go round between product use and support chat
  two to four times on one day, and no one else does.

Everything drawn for these later plants comes from a second random generator with its
own seed, so the customers and events drawn from the first are the same as before them:
only small businesses' onboarding and what follows it move, by their wait in the queue
(their support contacts keep the channel and rating drawn for the instant before the
move). Everything is generated with vectorised numpy, so 20,000 customers and about a
million events take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DAY = 86_400.0
START = np.datetime64("2024-07-01T00:00:00")
HORIZON_DAYS = 730
PERSONAS = np.array(["smb", "mid_market", "enterprise"])
PERSONA_SHARES = [0.6, 0.3, 0.1]
TRIAL_TO_PURCHASE = {"smb": 0.12, "mid_market": 0.55, "enterprise": 0.6}
HAND_OFF_MEDIAN_DAYS = 9.0
OTHER_STEP_MEDIAN_DAYS = 1.5
SUPPORT_CONTACT_RATE = 0.45
CHURN_WITHOUT_SUPPORT = 0.15
CHURN_AFTER_SUPPORT = 0.04
CHATBOT_LAUNCH = "2025-10-01"
CHATBOT_SECONDS = float(
    (np.datetime64(CHATBOT_LAUNCH) - START.astype("datetime64[D]")) / np.timedelta64(1, "s")
)
CHAT_CSAT_BEFORE = 4.1
CHAT_CSAT_AFTER_CHATBOT = 4.5
HOUR = 3_600.0
WELCOME_ON_TIME = 0.9
WELCOME_LATE = 0.06
WELCOME_MEAN_MINUTES = 2.0
WELCOME_BATCH_HOUR = 6.0
KICKOFF_LEVEL_BUSINESS_DAYS = 7
QUEUED_PERSONA = "smb"
QUEUE_MEAN_DAYS = 8.0
SURVEY_RESPONSE = 0.6
ONBOARDING_CSAT_MET = 4.0
ONBOARDING_CSAT_BREACHED = 3.2
ONBOARDING_CSAT_SPREAD = 0.7
LOOP_PERSONA = "mid_market"
LOOP_MONTH = "2025-03"
LOOP_SHARE = 0.5


def _seconds(day: np.datetime64) -> float:
    """Seconds from the demo's start (a Monday, 00:00 UTC) to ``day``."""
    return float((day - START) / np.timedelta64(1, "s"))


LOOP_SECONDS = (
    _seconds(np.datetime64(LOOP_MONTH, "M").astype("datetime64[s]")),
    _seconds((np.datetime64(LOOP_MONTH, "M") + 1).astype("datetime64[s]")),
)

#: What the demo planted, for tests and for the report's reader.
TRUTH = {
    "dropping_persona": "smb",
    "dropping_step": "trial_start -> purchase",
    "trial_to_purchase": TRIAL_TO_PURCHASE,
    "slow_hand_off": "purchase -> onboarding",
    "hand_off_median_days": HAND_OFF_MEDIAN_DAYS,
    "monthly_churn_without_support": CHURN_WITHOUT_SUPPORT,
    "monthly_churn_after_support": CHURN_AFTER_SUPPORT,
    "chatbot_launch": CHATBOT_LAUNCH,
    "chat_csat_before_after": (CHAT_CSAT_BEFORE, CHAT_CSAT_AFTER_CHATBOT),
    "welcome_on_time_late_never": (
        WELCOME_ON_TIME,
        WELCOME_LATE,
        round(1 - WELCOME_ON_TIME - WELCOME_LATE, 10),
    ),
    "breaching_hand_off": "Implementation kick-off",
    "breaching_persona": QUEUED_PERSONA,
    "queue_mean_days": QUEUE_MEAN_DAYS,
    "onboarding_csat_met_breached": (ONBOARDING_CSAT_MET, ONBOARDING_CSAT_BREACHED),
    "onboarding_csat_spread": ONBOARDING_CSAT_SPREAD,
    "looping_persona": LOOP_PERSONA,
    "looping_month": LOOP_MONTH,
    "looping_touchpoints": ("usage", "chat"),
}

SPEC_FILE = "demo_journey.yaml"


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo wrote its files."""

    folder: Path
    events: Path
    spec: Path
    customers: int
    rows: int


class _Events:
    """Columns of events gathered batch by batch (each batch a numpy array per column)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        who: np.ndarray,
        seconds: np.ndarray,
        event: str | np.ndarray,
        channel: str | np.ndarray,
        amount: np.ndarray | None = None,
        score: np.ndarray | None = None,
    ) -> None:
        size = len(who)
        self.parts.append(
            {
                "who": who,
                "seconds": seconds,
                "event": np.broadcast_to(np.asarray(event, dtype=object), size),
                "channel": np.broadcast_to(np.asarray(channel, dtype=object), size),
                "amount": np.full(size, np.nan) if amount is None else amount,
                "score": np.full(size, np.nan) if score is None else score,
            }
        )

    def delay(self, first_part: int, by: np.ndarray) -> None:
        """Move the events of the batches from ``first_part`` on later by ``by[customer]``."""
        for part in self.parts[first_part:]:
            part["seconds"] = part["seconds"] + by[part["who"]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {key: np.concatenate([p[key] for p in self.parts]) for key in self.parts[0]}
        )


def generate(customers: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """The demo's events as a DataFrame (one row per event), sorted by customer and time."""
    rng = np.random.default_rng(seed)
    # What was planted around the hand-offs draws from a generator of its own, so that
    # the draws from ``rng`` (the customers and their events) stay what they were.
    later = np.random.default_rng([seed, 1])
    ids = np.arange(customers)
    persona = rng.choice(PERSONAS, size=customers, p=PERSONA_SHARES)
    country = rng.choice(
        ["US", "GB", "DE", "FR", "NL"], size=customers, p=[0.4, 0.2, 0.2, 0.1, 0.1]
    )
    origin = rng.choice(
        ["paid", "search", "blog", "webinar"], size=customers, p=[0.35, 0.3, 0.25, 0.1]
    )
    first_seen = rng.uniform(0, 540, size=customers) * DAY
    out = _Events()

    def delay(median_days: float, size: int) -> np.ndarray:
        return rng.lognormal(np.log(median_days * DAY), 0.6, size=size)

    awareness = {
        "paid": "ad_click",
        "search": "blog_visit",
        "blog": "blog_visit",
        "webinar": "webinar_join",
    }
    for source, event in awareness.items():
        mask = origin == source
        out.add(ids[mask], first_seen[mask], event, "paid" if source == "paid" else "web")
    extra = rng.random(customers) < 0.5
    out.add(ids[extra], first_seen[extra] + delay(3, int(extra.sum())), "blog_visit", "web")

    considers = rng.random(customers) < 0.7
    pricing_time = first_seen + delay(OTHER_STEP_MEDIAN_DAYS, customers)
    out.add(ids[considers], pricing_time[considers], "pricing_view", "web")
    wants_demo = considers & (persona != "smb") & (rng.random(customers) < 0.6)
    demo_time = pricing_time + delay(OTHER_STEP_MEDIAN_DAYS, customers)
    out.add(ids[wants_demo], demo_time[wants_demo], "demo_request", "call")
    trials = considers & (rng.random(customers) < 0.75)
    trial_time = np.where(wants_demo, demo_time, pricing_time) + delay(
        OTHER_STEP_MEDIAN_DAYS, customers
    )
    out.add(ids[trials], trial_time[trials], "trial_start", "product")

    buy_rate = np.vectorize(TRIAL_TO_PURCHASE.get)(persona)
    buys = trials & (rng.random(customers) < buy_rate)
    purchase_time = trial_time + delay(OTHER_STEP_MEDIAN_DAYS * 2, customers)
    price = np.select([persona == "smb", persona == "mid_market"], [49.0, 299.0], 1499.0)
    out.add(ids[buys], purchase_time[buys], "purchase", "web", amount=price[buys])

    onboarding = len(out.parts)
    kickoff_time = purchase_time + delay(HAND_OFF_MEDIAN_DAYS, customers)
    out.add(ids[buys], kickoff_time[buys], "kickoff_call", "call")
    set_up = buys & (rng.random(customers) < 0.9)
    setup_time = kickoff_time + delay(OTHER_STEP_MEDIAN_DAYS, customers)
    out.add(ids[set_up], setup_time[set_up], "setup_complete", "product")

    end = np.zeros(customers)
    end[buys] = _usage_and_service(rng, out, ids[buys], setup_time[buys], price[buys])
    queued = later.exponential(QUEUE_MEAN_DAYS * DAY, customers) * (persona == QUEUED_PERSONA)
    out.delay(onboarding, queued)
    _welcome(later, out, ids[buys], purchase_time[buys])
    _onboarding_survey(later, out, ids[buys], purchase_time[buys], (kickoff_time + queued)[buys])
    looping = buys & (persona == LOOP_PERSONA)
    _broken_release(
        later, out, ids[looping], (setup_time + queued)[looping], (end + queued)[looping]
    )
    frame = out.frame()
    frame = frame[frame["seconds"] < HORIZON_DAYS * DAY]
    frame = frame.sort_values(["who", "seconds"], kind="stable")
    who = frame["who"].to_numpy()
    return pd.DataFrame(
        {
            "customer_id": pd.Series(who).map(lambda n: f"C{n:06d}").to_numpy(),
            "timestamp": START + (frame["seconds"].to_numpy() * 1e6).astype("timedelta64[us]"),
            "event": frame["event"].to_numpy(),
            "channel": frame["channel"].to_numpy(),
            "amount": frame["amount"].to_numpy(),
            "score": frame["score"].to_numpy(),
            "segment": persona[who],
            "country": country[who],
        }
    )


def _usage_and_service(
    rng: np.random.Generator,
    out: _Events,
    who: np.ndarray,
    start: np.ndarray,
    price: np.ndarray,
) -> np.ndarray:
    """Monthly subscription, usage, support, surveys and advocacy of paying customers.

    Month by month, an active customer contacts support with a fixed probability; a month
    with support is followed by a lower chance of cancelling (the planted support effect).
    From the chatbot's launch, more contacts are chats and chats are rated higher.
    Returns when each customer's subscription ends (seconds from the start).
    """
    size = len(who)
    months_active = np.zeros(size)
    active = np.ones(size, dtype=bool)
    month_starts: list[np.ndarray] = []
    supported_who: list[np.ndarray] = []
    for month in range(HORIZON_DAYS // 30 + 1):
        months_active += active
        if month > 0:
            paying = np.flatnonzero(active)
            out.add(who[paying], start[paying] + month * 30 * DAY, "renewal", "web", price[paying])
        contact = active & (rng.random(size) < SUPPORT_CONTACT_RATE)
        month_starts.append(start[contact] + month * 30 * DAY)
        supported_who.append(np.flatnonzero(contact))
        churn = np.where(contact, CHURN_AFTER_SUPPORT, CHURN_WITHOUT_SUPPORT)
        active &= rng.random(size) >= churn
    _support_contacts(rng, out, who, np.concatenate(supported_who), np.concatenate(month_starts))
    end = start + months_active * 30 * DAY

    def spread(per_month: float, event: str, channel: str) -> None:
        counts = rng.poisson(per_month * months_active)
        owners = np.repeat(np.arange(size), counts)
        times = start[owners] + rng.random(len(owners)) * (end - start)[owners]
        out.add(who[owners], times, event, channel)

    spread(28.0, "login", "product")
    spread(16.0, "feature_use", "product")
    upgrades = (rng.random(size) < 0.15) & (months_active > 2)
    out.add(
        who[upgrades],
        start[upgrades] + rng.uniform(60, 300, upgrades.sum()) * DAY,
        "upgrade",
        "web",
        amount=price[upgrades] * 0.5,
    )
    surveyed = rng.random(size) < 0.4
    nps_time = start + rng.uniform(30, 200, size) * DAY
    nps = np.clip(np.round(rng.normal(7.5, 2.0, surveyed.sum())), 0, 10)
    out.add(who[surveyed], nps_time[surveyed], "nps_survey", "email", score=nps)
    promoters = surveyed & (rng.random(size) < 0.3)
    out.add(who[promoters], nps_time[promoters] + 5 * DAY, "referral", "web")
    reviewers = promoters & (rng.random(size) < 0.4)
    out.add(who[reviewers], nps_time[reviewers] + 9 * DAY, "review", "web")
    return end


def _support_contacts(
    rng: np.random.Generator,
    out: _Events,
    who: np.ndarray,
    owners: np.ndarray,
    month_start: np.ndarray,
) -> None:
    """One or more contacts in each supported month, by chat or e-mail, with CSAT surveys."""
    counts = 1 + rng.poisson(0.5, len(owners))
    owners = np.repeat(owners, counts)
    times = np.repeat(month_start, counts) + rng.random(len(owners)) * 30 * DAY
    after = times >= CHATBOT_SECONDS
    chat = rng.random(len(owners)) < np.where(after, 0.65, 0.45)
    for is_chat, event, channel in (
        (True, "support_chat", "chat"),
        (False, "support_ticket", "email"),
    ):
        mask = chat == is_chat
        out.add(who[owners[mask]], times[mask], event, channel)
        surveyed = mask & (rng.random(len(owners)) < 0.35)
        if is_chat:
            mean = np.where(after[surveyed], CHAT_CSAT_AFTER_CHATBOT, CHAT_CSAT_BEFORE)
        else:
            mean = np.full(surveyed.sum(), 3.6)
        score = np.clip(np.round(rng.normal(mean, 0.9)), 1, 5)
        out.add(
            who[owners[surveyed]], times[surveyed] + 3600.0, "csat_survey", "email", score=score
        )


def _welcome(rng: np.random.Generator, out: _Events, who: np.ndarray, bought: np.ndarray) -> None:
    """The welcome e-mail: minutes after the purchase, else the next morning's batch, else never."""
    size = len(who)
    fate = rng.random(size)
    minutes = rng.exponential(WELCOME_MEAN_MINUTES * 60, size)
    next_morning = (np.floor(bought / DAY) + 1) * DAY + WELCOME_BATCH_HOUR * HOUR
    sent = np.where(fate < WELCOME_ON_TIME, bought + minutes, next_morning)
    keep = fate < WELCOME_ON_TIME + WELCOME_LATE
    out.add(who[keep], sent[keep], "welcome_email", "email")


def _business_seconds(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Seconds from ``start`` to ``end`` (seconds from the demo's start) on Monday to Friday.

    The demo starts on a Monday at 00:00 UTC, so day ``d`` is a weekday when ``d % 7 < 5``.
    """

    def since_start(instant: np.ndarray) -> np.ndarray:
        days = np.floor(instant / DAY)
        weeks, weekday = np.divmod(days, 7)
        today = np.where(weekday < 5, instant - days * DAY, 0.0)
        seconds: np.ndarray = weeks * 5 * DAY + np.minimum(weekday, 5) * DAY + today
        return seconds

    waited: np.ndarray = since_start(end) - since_start(start)
    return waited


def _onboarding_survey(
    rng: np.random.Generator,
    out: _Events,
    who: np.ndarray,
    bought: np.ndarray,
    kickoff: np.ndarray,
) -> None:
    """A CSAT survey (1-5) a few hours after the kick-off call, lower after a breached wait."""
    size = len(who)
    answered = rng.random(size) < SURVEY_RESPONSE
    breached = _business_seconds(bought, kickoff) > KICKOFF_LEVEL_BUSINESS_DAYS * DAY
    mean = np.where(breached, ONBOARDING_CSAT_BREACHED, ONBOARDING_CSAT_MET)
    score = np.clip(np.round(rng.normal(mean, ONBOARDING_CSAT_SPREAD)), 1, 5)
    when = kickoff + rng.uniform(1, 6, size) * HOUR
    out.add(who[answered], when[answered], "onboarding_survey", "email", score=score[answered])


def _broken_release(
    rng: np.random.Generator,
    out: _Events,
    who: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> None:
    """Loops between product use and support chat, on one day of the month a release broke.

    Half of the customers subscribed during that month go round two to four times: a
    feature used, then a chat with support 5 to 30 minutes later, every two hours.
    """
    size = len(who)
    first, last = np.maximum(start, LOOP_SECONDS[0]), np.minimum(end, LOOP_SECONDS[1])
    hit = (first < last) & (rng.random(size) < LOOP_SHARE)
    day = first + rng.random(size) * np.maximum(last - first - 8 * HOUR, 0)
    rounds = rng.integers(2, 5, size) * hit
    owners = np.repeat(np.arange(size), rounds)
    turn = np.arange(len(owners)) - np.repeat(np.cumsum(rounds) - rounds, rounds)
    used = day[owners] + turn * 2 * HOUR
    out.add(who[owners], used, "feature_use", "product")
    chatted = used + rng.uniform(5, 30, len(owners)) * 60
    out.add(who[owners], chatted, "support_chat", "chat")


def write_demo(folder: str | Path, customers: int = 20_000, seed: int = 7) -> DemoFiles:
    """Generate the demo business into ``folder``: ``events.parquet`` and ``journey.yaml``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = generate(customers, seed)
    events = folder / "events.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), events)
    spec = folder / "journey.yaml"
    spec.write_text(files("journeys").joinpath(SPEC_FILE).read_text(encoding="utf-8"), "utf-8")
    return DemoFiles(folder=folder, events=events, spec=spec, customers=customers, rows=len(frame))
