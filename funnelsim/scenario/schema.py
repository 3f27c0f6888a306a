"""The scenario format: pydantic models, validated once at the edge.

Units are in field names. Time inside a working day is in *business hours*; `_days` are working
days; response times (`response_curve`) are calendar hours, as the published figures are.
"""

from __future__ import annotations

import copy
import math
from functools import partial
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator, model_validator

from funnelsim.scenario.distributions import Distribution, coerce_distribution, within
from funnelsim.scenario.people import (
    DEFAULT_RAMP,
    Alignment,
    Bootcamp,
    Learning,
    NonNegative,
    People,
    Positive,
    Probability,
    Ramp,
    Strict,
    Training,
)

UnitDist = Annotated[
    Distribution,
    BeforeValidator(coerce_distribution),
    AfterValidator(partial(within, low=0.0, high=1.0)),
]
NonNegDist = Annotated[
    Distribution,
    BeforeValidator(coerce_distribution),
    AfterValidator(partial(within, low=0.0, high=float("inf"))),
]

Routing = Literal["pool", "round_robin", "least_loaded", "best_match"]
Prioritisation = Literal["pipeline_first", "fifo", "newest_first", "highest_value"]
SellingPattern = Literal["morning", "spread"]


def _unique_names(items: list, what: str) -> list:
    names = [i.name for i in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{what} names must be unique (repeated: {', '.join(dup)})")
    return items


class Calendar(Strict):
    """The working calendar: selling happens only in working hours."""

    hours_per_day: Annotated[float, Field(gt=0, le=24)] = 8.0
    """Working hours a day; the clock runs in these business hours."""
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 5
    """Working days a week."""


class Channel(Strict):
    """A source of leads owned by marketing.

    `targeting` trades volume for quality: it excludes that share of the channel's audience, the
    lowest-fitting part. The channel then yields `leads_per_week x (1 - targeting)` leads, drawn
    from the top of the fit distribution, at `cost_per_lead / (1 - targeting) ** targeting_cost_exponent`
    each (exponent 1: the same weekly spend buys fewer, better leads).
    """

    name: str
    leads_per_week: NonNegative
    """Leads a week from the whole audience (Poisson arrivals), before targeting."""
    cost_per_lead: NonNegative = 50.0
    """Cost of one lead at targeting 0."""
    fit: UnitDist = Field(default_factory=lambda: {"dist": "beta", "a": 2.0, "b": 3.0})
    """Persona fit of the audience's leads, in [0, 1]; 0.5 is the reference fit."""
    targeting: Annotated[float, Field(ge=0, le=0.95)] = 0.0
    """Share of the audience, the lowest-fitting part, that the channel excludes."""
    targeting_cost_exponent: NonNegative = 1.0
    """Cost per lead grows as 1 / (1 - targeting) to this power (1: same spend a week)."""


class Nurture(Strict):
    """Email nurture for leads below the MQL threshold (and for engaged leads, hand-raisers)."""

    enabled: bool = True
    """Nurture leads below the MQL threshold by email (off: they are disqualified)."""
    email_interval_days: Positive = 5.0
    """Working days between emails."""
    max_emails: Annotated[int, Field(ge=0)] = 12
    """Emails before a silent lead is given up."""
    cost_per_email: NonNegative = 0.05
    """Cost of one email to one lead."""
    engage_probability: Probability = 0.02
    """Per email, at reference fit: the lead replies with questions and goes to sales."""
    email_close_probability: Probability = 0.001
    """Per email, at reference fit: the lead buys from the email alone."""


class Marketing(Strict):
    marketers: Annotated[int, Field(ge=0)] = 8
    """Marketers on the payroll; channels are shared out among them."""
    salary_per_year: NonNegative = 133_380.0
    """Salary of a marketer."""
    budget_per_month: NonNegative | None = None
    """Cap on lead spend a month (null: no cap)."""
    mql_threshold: Probability = 0.5
    """Marketing score at or above which a lead goes to sales (an MQL)."""
    score_noise_sd: NonNegative = 0.1
    """Marketing's score is the lead's fit plus normal noise of this standard deviation."""
    channels: Annotated[list[Channel], Field(min_length=1)]
    nurture: Nurture = Nurture()

    _names = field_validator("channels")(lambda v: _unique_names(v, "channel"))


class Team(Strict):
    """A group of reps hired alike."""

    name: str
    reps: Annotated[int, Field(ge=0)]
    """Reps on the team at the start."""
    hours_per_week: Annotated[float, Field(gt=0, le=168)] = 40.0
    """Working hours a week of each rep."""
    selling_share: Annotated[float, Field(gt=0, le=1)] = 0.35
    """Share of those hours available for selling; the rest is admin."""
    selling_pattern: SellingPattern | Annotated[list[NonNegative], Field(min_length=1)] = "spread"
    """When in the working day the selling hours fall. `spread` (the default): an equal share in
    each working hour, selling between admin and meetings as sales teams work (Salesforce State of
    Sales; see the README). `morning` (the behaviour of earlier versions): all of them from the
    start of the day, so a lead that arrives once they are spent waits until tomorrow. Or a list of
    weights, one per working hour of the day (`calendar.hours_per_day`, rounded up). Hours a rep
    does not use carry over to later in the same day, never to the next day."""
    skill: UnitDist = Field(default_factory=lambda: {"dist": "beta", "a": 7.0, "b": 3.0})
    """Full (ramped) skill of each rep, in [0, 1]; 0.7 is the reference skill."""
    salary_per_year: NonNegative = 132_290.0
    """Salary of a rep."""
    tenure_months_at_start: NonNegative = 24.0
    """Tenure of the reps present at the start (24: fully ramped veterans)."""
    ramp: Ramp | None = Field(default_factory=lambda: dict(DEFAULT_RAMP))
    """How new hires ramp up; null: they start at full skill."""
    training: Training = Training()
    bootcamp: Bootcamp = Bootcamp()
    learning: Learning = Learning(max_skill_gain=0.0)


class Contact(Strict):
    """Reaching a new lead: up to `max_attempts` tries, spaced apart; reaching them leads straight
    into the first stage's conversation."""

    max_attempts: Annotated[int, Field(ge=1)] = 6
    """Contact attempts before a lead is given up as unreached."""
    attempt_spacing_hours: NonNegative = 8.0
    """Business hours between attempts (8: the next working day)."""
    hours_per_attempt: NonNegDist = 0.25
    """Rep hours one attempt takes (call, voicemail, email, logging)."""
    reach_probability: Probability = 0.45
    """Chance that an attempt reaches the lead."""


class Stage(Strict):
    """One step of the sales cycle after contact."""

    name: str
    conversion: Probability
    """Chance of passing the stage at reference fit and skill (and, for the first stage, an immediate answer)."""
    hours: NonNegDist
    """Rep hours the stage takes."""
    buyer_delay_days: NonNegDist = 0.0
    """Working days the buyer takes before this stage can happen (ignored for the first stage)."""


CurvePoints = Annotated[list[tuple[NonNegative, Annotated[float, Field(gt=0, le=1)]]], Field(min_length=1)]

# Shaped after Oldroyd, McElheran & Elkington (HBR 2011): within the first hour ~7x likelier to
# qualify than an hour later, 60x likelier than after 24 hours or more.
HBR_2011_CURVE = [(0.0, 1.0), (1.0, 1.0), (2.0, 1 / 7), (24.0, 1 / 60)]
# Named speed-to-lead assumptions: (reach points, qualify points); None is a flat curve.
CURVE_PRESETS: dict[str, tuple[list | None, list | None]] = {
    # firm-level, 1.25M leads at 42 firms: the qualify odds only (reaching is not separated)
    "hbr_2011": (None, HBR_2011_CURVE),
    # MIT / InsideSales lead response study (Oldroyd & Elkington 2007): from 5 to 30 minutes the
    # odds of contact fall ~100x and of qualifying ~21x; held flat after 30 minutes (extreme: a
    # lead not called within minutes is then hardly ever reached)
    "mit_2007": ([(0.0, 1.0), (5 / 60, 1.0), (0.5, 0.01)], [(0.0, 1.0), (5 / 60, 1.0), (0.5, 1 / 21)]),
    # an assumption, not a published figure: considered B2B purchases cool slowly, half the
    # interest after a day and a quarter after a working week
    "gentle": (None, [(0.0, 1.0), (1.0, 1.0), (24.0, 0.5), (120.0, 0.25)]),
    # no speed-to-lead effect at all
    "none": (None, None),
}


class ResponseCurve(Strict):
    """Speed to lead: how the chance to reach a new lead, and to qualify it once reached, falls
    with the calendar hours it has waited since reaching sales.

    Two curves of `[calendar_hours, multiplier]` points, interpolated log-linearly and held flat
    after the last point: `reach_points` scales `contact.reach_probability` at every attempt (by
    the hours since the lead reached sales), `points` scales the first stage's conversion (by the
    wait before the first attempt). `preset` names a published pair: `hbr_2011` (Oldroyd,
    McElheran & Elkington, HBR 2011: qualify 7x likelier within the hour, 60x likelier than after
    24 h; no reach effect; the default), `mit_2007` (Oldroyd & Elkington's lead response study,
    2007: contact odds fall ~100x and qualify odds ~21x between 5 and 30 minutes), `gentle` (an
    assumption for robustness checks: half the interest left after a day) or `none`. Give a
    preset or explicit points, not both (a file extending one with points writes `points: null`
    beside its preset); with neither, `hbr_2011`.
    """

    preset: Literal["hbr_2011", "mit_2007", "gentle", "none"] | None = None
    """A named pair of curves (see above), instead of explicit points."""
    points: CurvePoints | None = None
    """The qualify curve: multiplier on the first stage's conversion by hours waited."""
    reach_points: CurvePoints | None = None
    """The reach curve: multiplier on the reach probability by hours since reaching sales."""

    @field_validator("points", "reach_points")
    @classmethod
    def _increasing(cls, v):
        if v is None:
            return v
        hours = [h for h, _ in v]
        if any(b <= a for a, b in zip(hours, hours[1:], strict=False)):
            raise ValueError(f"hours must increase strictly (got {hours})")
        return v

    @model_validator(mode="after")
    def _preset_or_points(self):
        if self.preset is not None and (self.points is not None or self.reach_points is not None):
            given = " and ".join(k for k in ("points", "reach_points") if getattr(self, k) is not None)
            raise ValueError(
                f"a preset names both curves, so it cannot come with {given} (got preset {self.preset!r}); "
                f"a file extending one that gives {given} sets them to null beside its preset"
            )
        return self

    def curves(self) -> tuple[list, list]:
        """The (reach, qualify) points this block means; a flat curve is `[(0, 1)]`."""
        reach, qualify = CURVE_PRESETS[self.preset or "hbr_2011"]
        flat = [(0.0, 1.0)]
        reach = self.reach_points if self.reach_points is not None else (reach or flat)
        qualify = self.points if self.points is not None else (qualify or flat)
        return list(reach), list(qualify)


class Outcomes(Strict):
    """Stage conversion = stage conversion x (fit/fit_reference)^fit_elasticity x
    (skill/skill_reference)^skill_elasticity x interest, capped at 0.99."""

    fit_elasticity: NonNegative = 1.0
    """How strongly persona fit moves every stage's conversion."""
    skill_elasticity: NonNegative = 1.0
    """How strongly rep skill moves every stage's conversion."""
    fit_reference: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Fit at which conversions are as configured."""
    skill_reference: Annotated[float, Field(gt=0, le=1)] = 0.7
    """Skill at which conversions are as configured."""


# The calibrated cycle of scenarios/baseline.yaml (sources cited there): MQL -> SQL -> opportunity -> won.
DEFAULT_STAGES = (
    {"name": "qualify", "conversion": 0.42, "hours": 0.5},
    {
        "name": "discovery",
        "conversion": 0.45,
        "hours": {"dist": "triangular", "low": 1, "mode": 1.5, "high": 3},
        "buyer_delay_days": {"dist": "triangular", "low": 3, "mode": 7, "high": 14},
    },
    {
        "name": "proposal",
        "conversion": 0.35,
        "hours": {"dist": "triangular", "low": 2, "mode": 3, "high": 6},
        "buyer_delay_days": {"dist": "triangular", "low": 5, "mode": 12, "high": 25},
    },
    {
        "name": "negotiation",
        "conversion": 0.4,
        "hours": {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
        "buyer_delay_days": {"dist": "triangular", "low": 5, "mode": 14, "high": 30},
    },
)


class Sales(Strict):
    teams: Annotated[list[Team], Field(min_length=1)]
    """Teams of reps."""
    routing: Routing = "least_loaded"
    """Who gets a new lead: least_loaded, round_robin, best_match (best leads to best reps) or pool (shared queue)."""
    prioritisation: Prioritisation = "pipeline_first"
    """Which ready task a rep takes first. pipeline_first (the default): open deals before new leads (later stages
    first, then the larger expected deal), new leads by what they are worth now (win chance at
    their score, discounted by the response curve's fall over a working day), and under load
    the weakest are let go (`let_go_after_days`); how sales teams work (Sabnis et al., Journal of
    Marketing 2013: reps work the leads they judge will buy, the rest fall into the black hole).
    The textbook rules: fifo (oldest ready task first), newest_first (speed to lead) or
    highest_value (best win chance at its stage)."""
    let_go_after_days: Positive | None = 2.0
    """Under pipeline_first, a rep keeps as many waiting new leads as its selling hours can call
    within this many working days; each morning the lowest-ranked beyond that are let go (state
    let_go; a lead tried but not yet reached can be let go too). An assumption: a lead a day old
    keeps 1/60 of its interest (HBR 2011), so one not called within two days is hardly worth the
    call. null: keep every lead."""
    contact: Contact = Contact()
    stages: Annotated[list[Stage], Field(min_length=1)] = Field(
        default_factory=lambda: copy.deepcopy(list(DEFAULT_STAGES))
    )
    """The sales cycle after contact; the first stage happens in the call that reaches the lead.
    Default: the calibrated four stages of scenarios/baseline.yaml."""
    response_curve: ResponseCurve = ResponseCurve(points=HBR_2011_CURVE)
    outcomes: Outcomes = Outcomes()
    deal_value: NonNegDist = Field(default_factory=lambda: {"dist": "lognormal", "median": 25_000, "sigma": 0.6})
    """Value of a won deal."""
    follow_up_patience_days: Positive | None = 15.0
    """A buyer waiting for the next stage stays with probability exp(-wait / patience) (null: forever)."""
    abandon_after_days: Positive | None = 20.0
    """A new lead not tried within this many working days is dropped unworked (null: never)."""

    _names = field_validator("teams")(lambda v: _unique_names(v, "team"))
    _stage_names = field_validator("stages")(lambda v: _unique_names(v, "stage"))


class Scenario(Strict):
    """A complete what-if: the market, the marketing team and the sales team."""

    name: str = "scenario"
    """Name shown in reports."""
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    """Default master seed of runs of this scenario."""
    horizon_weeks: Annotated[float, Field(gt=0, le=520)] = 52.0
    """Length of a run."""
    calendar: Calendar = Calendar()
    marketing: Marketing
    sales: Sales
    people: People = People()
    """People dynamics: mentoring, hiring, attrition, trust, SLA, scruples, referrals."""
    alignment: Alignment = Alignment()
    """The sales-marketing feedback loop and joint training."""

    @model_validator(mode="after")
    def _patterns_fit_the_day(self):
        """A list of selling weights has one weight per working hour of the calendar's day."""
        hours = math.ceil(self.calendar.hours_per_day - 1e-9)
        problems = []
        for i, team in enumerate(self.sales.teams):
            pattern = team.selling_pattern
            if isinstance(pattern, str):
                continue
            if len(pattern) != hours:
                why = f"one weight per working hour: {hours} (calendar.hours_per_day), got {len(pattern)}"
            elif sum(pattern) <= 0:
                why = "weights that are not all zero"
            else:
                continue
            problems.append(
                {
                    "type": "value_error",
                    "loc": ("sales", "teams", i, "selling_pattern"),
                    "input": pattern,
                    "ctx": {"error": ValueError(why)},
                }
            )
        if problems:
            raise ValidationError.from_exception_data("Scenario", problems)
        return self
