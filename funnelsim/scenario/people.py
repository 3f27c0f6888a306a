"""Scenario sections for people dynamics: ramp-up, training, mentoring, hiring, attrition,
trust between the teams, scruples, and sales-marketing alignment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class Strict(BaseModel):
    """Base of every scenario model: unknown keys, inf and NaN are errors; models are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False, use_attribute_docstrings=True
    )


class Ramp(Strict):
    """How a new hire's skill grows to its full level with tenure.

    Give either a step table (`quarterly` or `monthly`: share of full skill in each period of
    tenure, the last value holding after) or a smooth curve `1 - exp(-tenure / time_constant)`.
    """

    quarterly: list[Probability] | None = None
    """Share of full skill in tenure quarter 1, 2, ... (the planning convention 0/25/50/100%)."""
    monthly: list[Probability] | None = None
    """Share of full skill in tenure month 1, 2, ..."""
    time_constant_months: Positive | None = None
    """Smooth ramp: share = 1 - exp(-tenure_months / time_constant_months)."""

    @model_validator(mode="after")
    def _one_form(self):
        given = [k for k in ("quarterly", "monthly", "time_constant_months") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of quarterly, monthly or time_constant_months"
                + (f" (got {', '.join(given)})" if given else " (got none)")
            )
        return self


# About five months for account executives (domain: AEs ~5 months, SDRs ~3).
DEFAULT_RAMP = {"time_constant_months": 1.7}


class Training(Strict):
    """An ongoing training programme: hours taken from selling time, with diminishing returns."""

    hours_per_week: NonNegative = 0.0
    """Training hours per rep per week, taken from selling hours."""
    cost_per_hour: NonNegative = 100.0
    """Cost of one rep-hour of training (trainer, materials)."""
    max_skill_gain: Probability = 0.15
    """Skill added by unlimited training."""
    half_gain_hours: Positive = 40.0
    """Training hours that give half of `max_skill_gain`."""


class Bootcamp(Strict):
    """A one-off programme for new hires before they sell."""

    weeks: NonNegative = 0.0
    """Weeks a new hire spends in bootcamp instead of selling."""
    cost_per_hire: NonNegative = 0.0
    tenure_credit_months: NonNegative = 1.0
    """Months of ramp a bootcamp graduate starts with."""


class Learning(Strict):
    """Learning by doing: skill also grows with the leads a rep works."""

    max_skill_gain: Probability = 0.05
    half_gain_tasks: Positive = 200.0
    """Tasks completed that give half of `max_skill_gain`."""


class Mentoring(Strict):
    """New hires paired with veterans ramp faster; the veteran gives up selling hours."""

    enabled: bool = False
    hours_per_week: NonNegative = 4.0
    """Selling hours a week the mentor gives up."""
    ramp_speedup: NonNegative = 0.5
    """Extra tenure a mentored hire gains per day (0.5: ramps 1.5 times as fast)."""
    duration_weeks: Positive = 12.0
    min_mentor_tenure_months: NonNegative = 12.0


class Cohort(Strict):
    """Reps hired together at a given week."""

    week: NonNegative
    reps: Annotated[int, Field(ge=1)]
    team: str | None = None
    """Team they join (default: the first team)."""


class HiringRule(Strict):
    """Hire when open leads per rep exceed a threshold, within a headcount budget."""

    open_leads_per_rep_above: Positive
    max_headcount: Annotated[int, Field(ge=1)]
    check_every_weeks: Positive = 4.0
    hires_per_check: Annotated[int, Field(ge=1)] = 2
    team: str | None = None


class Hiring(Strict):
    cohorts: list[Cohort] = []
    """Scheduled hires, e.g. a growth spurt of 10 trainees at week 12."""
    rule: HiringRule | None = None
    time_to_hire_weeks: NonNegative = 4.0
    """Delay between deciding to hire (rule, backfill) and the hire's first day."""


class Attrition(Strict):
    """Reps leave at an annual rate (default from domain figures: 25-35% a year)."""

    annual_rate: Probability = 0.3
    first_year_multiplier: NonNegative = 1.5
    """Hazard multiplier in a rep's first year."""
    open_leads: Literal["reassign", "lose"] = "reassign"
    """What happens to a leaver's open leads."""
    handoff_delay_days: NonNegative = 2.0
    backfill: bool = True
    """Replace each leaver (after `hiring.time_to_hire_weeks`)."""


class Trust(Strict):
    """The lead black hole: reps work marketing leads only as far as recent ones converted."""

    enabled: bool = False
    initial: Probability = 1.0
    reference_qualify_rate: Annotated[float, Field(gt=0, le=1)] = 0.3
    """Qualify rate of worked leads at which reps trust marketing fully."""
    memory_weeks: Positive = 8.0
    floor: Probability = 0.1
    """Share of leads worked even at no trust."""


class Scruples(Strict):
    """Some reps bend the truth: more closes now, refunds and fewer referrals later."""

    share_of_reps: Probability = 0.0
    close_boost: NonNegative = 0.15
    """Relative increase of the last stage's conversion for such reps."""
    refund_probability: Probability = 0.3
    refund_within_weeks: Positive = 12.0
    referral_loss: Probability = 0.5
    """Share of referrals lost on their deals."""


class Referrals(Strict):
    """Won deals bring referral leads."""

    probability_per_deal: Probability = 0.0
    delay_weeks: NonNegative = 4.0
    fit: Annotated[float, Field(ge=0, le=1)] = 0.75


class JointTraining(Strict):
    """Sales and marketing trained together: alignment and hand-offs improve."""

    every_weeks: NonNegative = 0.0
    """Weeks between sessions (0: none)."""
    hours_per_rep: NonNegative = 4.0
    cost_per_session: NonNegative = 5_000.0
    alignment_gain: Probability = 0.2
    """Each session closes this share of the gap to full alignment."""
    score_noise_reduction: Probability = 0.15
    """Each session cuts marketing's scoring noise by this share (better hand-offs)."""


class Alignment(Strict):
    """The feedback loop: sales tells marketing which personas close; targeting improves."""

    level: Probability = 0.0
    """How often and how well the teams talk (0: no meetings, no learning)."""
    feedback_every_weeks: Positive = 4.0
    learning_rate: Probability = 0.5
    max_fit_gain: Probability = 0.3
    """Largest shift of new leads' fit toward 1 that learning can reach."""
    deals_for_full_lesson: Positive = 20.0
    """Closed deals reported at a meeting for marketing to learn the most it can from it."""
    joint_training: JointTraining = JointTraining()


class People(Strict):
    """People dynamics of the sales team."""

    mentoring: Mentoring = Mentoring()
    hiring: Hiring = Hiring()
    attrition: Attrition = Attrition()
    trust: Trust = Trust()
    sla_hours: Positive | None = None
    """Respond to every new lead within this many hours: all leads are worked, new ones first."""
    scruples: Scruples = Scruples()
    referrals: Referrals = Referrals()
