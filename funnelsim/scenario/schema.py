"""The scenario format: pydantic models, validated once at the edge.

Units are in field names. Time inside a working day is in *business hours*; `_days` are working
days; response times (`response_curve`) are calendar hours, as the published figures are.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from funnelsim.scenario.distributions import Distribution, coerce_distribution, within
from funnelsim.scenario.people import DEFAULT_RAMP, Alignment, Bootcamp, Learning, People, Ramp, Training

Probability = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
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
Prioritisation = Literal["fifo", "newest_first", "highest_value"]


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False, use_attribute_docstrings=True
    )


def _unique_names(items: list, what: str) -> list:
    names = [i.name for i in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{what} names must be unique (repeated: {', '.join(dup)})")
    return items


class Calendar(Strict):
    """The working calendar: selling happens only in working hours."""

    hours_per_day: Annotated[float, Field(gt=0, le=24)] = 8.0
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 5


class Channel(Strict):
    """A source of leads owned by marketing.

    `targeting` trades volume for quality: it excludes that share of the channel's audience, the
    lowest-fitting part. The channel then yields `leads_per_week x (1 - targeting)` leads, drawn
    from the top of the fit distribution, at `cost_per_lead / (1 - targeting) ** targeting_cost_exponent`
    each (exponent 1: the same weekly spend buys fewer, better leads).
    """

    name: str
    leads_per_week: NonNegative
    cost_per_lead: NonNegative = 50.0
    fit: UnitDist = Field(default_factory=lambda: {"dist": "beta", "a": 2.0, "b": 3.0})
    targeting: Annotated[float, Field(ge=0, le=0.95)] = 0.0
    targeting_cost_exponent: NonNegative = 1.0


class Nurture(Strict):
    """Email nurture for leads below the MQL threshold (and for engaged leads, hand-raisers)."""

    enabled: bool = True
    email_interval_days: Positive = 5.0
    max_emails: Annotated[int, Field(ge=0)] = 12
    cost_per_email: NonNegative = 0.05
    engage_probability: Probability = 0.02
    email_close_probability: Probability = 0.001


class Marketing(Strict):
    marketers: Annotated[int, Field(ge=0)] = 8
    salary_per_year: NonNegative = 133_380.0
    budget_per_month: NonNegative | None = None
    mql_threshold: Probability = 0.5
    score_noise_sd: NonNegative = 0.1
    channels: Annotated[list[Channel], Field(min_length=1)]
    nurture: Nurture = Nurture()

    _names = field_validator("channels")(lambda v: _unique_names(v, "channel"))


class Team(Strict):
    """A group of reps hired alike."""

    name: str
    reps: Annotated[int, Field(ge=0)]
    hours_per_week: Annotated[float, Field(gt=0, le=168)] = 40.0
    selling_share: Annotated[float, Field(gt=0, le=1)] = 0.35
    skill: UnitDist = Field(default_factory=lambda: {"dist": "beta", "a": 7.0, "b": 3.0})
    """Full (ramped) skill of each rep, in [0, 1]; 0.7 is the reference skill."""
    salary_per_year: NonNegative = 132_290.0
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
    attempt_spacing_hours: NonNegative = 8.0
    hours_per_attempt: NonNegDist = 0.25
    reach_probability: Probability = 0.45


class Stage(Strict):
    """One step of the sales cycle after contact."""

    name: str
    conversion: Probability
    hours: NonNegDist
    buyer_delay_days: NonNegDist = 0.0


class ResponseCurve(Strict):
    """How much of a lead's interest survives a wait before the first attempt.

    `points` are `[calendar_hours, multiplier]`; the multiplier is interpolated log-linearly and
    held flat after the last point. It scales the first stage's conversion.
    """

    points: Annotated[list[tuple[NonNegative, Annotated[float, Field(gt=0, le=1)]]], Field(min_length=1)]

    @field_validator("points")
    @classmethod
    def _increasing(cls, v):
        hours = [h for h, _ in v]
        if any(b <= a for a, b in zip(hours, hours[1:], strict=False)):
            raise ValueError(f"hours must increase strictly (got {hours})")
        return v


# Shaped after Oldroyd, McElheran & Elkington (HBR 2011): within the first hour ~7x likelier to
# qualify than an hour later, 60x likelier than after 24 hours or more.
HBR_2011_CURVE = [(0.0, 1.0), (1.0, 1.0), (2.0, 1 / 7), (24.0, 1 / 60)]


class Outcomes(Strict):
    """Stage conversion = stage conversion x (fit/fit_reference)^fit_elasticity x
    (skill/skill_reference)^skill_elasticity x interest, capped at 0.99."""

    fit_elasticity: NonNegative = 1.0
    skill_elasticity: NonNegative = 1.0
    fit_reference: Annotated[float, Field(gt=0, le=1)] = 0.5
    skill_reference: Annotated[float, Field(gt=0, le=1)] = 0.7


class Sales(Strict):
    teams: Annotated[list[Team], Field(min_length=1)]
    routing: Routing = "least_loaded"
    prioritisation: Prioritisation = "fifo"
    contact: Contact = Contact()
    stages: Annotated[list[Stage], Field(min_length=1)]
    response_curve: ResponseCurve = ResponseCurve(points=HBR_2011_CURVE)
    outcomes: Outcomes = Outcomes()
    deal_value: NonNegDist = Field(default_factory=lambda: {"dist": "lognormal", "median": 25_000, "sigma": 0.6})
    follow_up_patience_days: Positive | None = 15.0
    abandon_after_days: Positive | None = 20.0

    _names = field_validator("teams")(lambda v: _unique_names(v, "team"))
    _stage_names = field_validator("stages")(lambda v: _unique_names(v, "stage"))


class Scenario(Strict):
    """A complete what-if: the market, the marketing team and the sales team."""

    name: str = "scenario"
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    horizon_weeks: Annotated[float, Field(gt=0, le=520)] = 52.0
    calendar: Calendar = Calendar()
    marketing: Marketing
    sales: Sales
    people: People = People()
    alignment: Alignment = Alignment()
