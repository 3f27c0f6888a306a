"""How sales and marketing get along: the feedback loop, joint training, and trust.

Alignment moves marketing's targeting toward the personas that close; trust decides how many
marketing leads reps bother to work (the lead black hole).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel


class Alignment:
    """Weekly: feedback meetings, joint training sessions, and the reps' trust in marketing.

    Attributes:
        level: how well the teams talk, in [0, 1]; joint training raises it.
        fit_gain: how far new leads' fit has moved toward 1 (fit' = fit + gain x (1 - fit)).
        trust: share of marketing leads reps work, from how well recent ones qualified.
    """

    def __init__(self, model: FunnelModel):
        self.model = model
        self.cfg = model.config.alignment
        self.trust_cfg = model.config.people.trust
        self.level = self.cfg.level
        self.fit_gain = 0.0
        self.score_noise_sd = model.marketing.score_noise_sd
        self.deals_at_last_meeting = 0
        self.training_cost = 0.0
        self.sessions = 0
        self.trust_on = self.trust_cfg.enabled and model.config.people.sla_hours is None
        self.qualify_rate = self.trust_cfg.initial * self.trust_cfg.reference_qualify_rate
        self.trust = self.trust_cfg.initial
        self.work_probability = 1.0
        self._update_work_probability()

    def start_week(self, week: int) -> None:
        cfg = self.cfg
        if week > 0 and week % max(1, round(cfg.feedback_every_weeks)) == 0:
            self._feedback_meeting()
        joint = cfg.joint_training
        if joint.every_weeks > 0 and week % max(1, round(joint.every_weeks)) == 0:
            self._joint_training(joint)
        if self.trust_on and week > 0:
            self._update_trust()

    def _feedback_meeting(self) -> None:
        """Sales reports the deals it closed; marketing learns in proportion to the evidence."""
        model = self.model
        deals = model.deals_won - self.deals_at_last_meeting
        self.deals_at_last_meeting = model.deals_won
        lesson = 1.0 - math.exp(-deals / self.cfg.deals_for_full_lesson)
        step = self.level * self.cfg.learning_rate * lesson
        self.fit_gain += step * (self.cfg.max_fit_gain - self.fit_gain)

    def _joint_training(self, joint) -> None:
        model = self.model
        for rep in model.reps:
            rep.hours_off_today += joint.hours_per_rep
        self.training_cost += joint.cost_per_session
        self.sessions += 1
        self.level += joint.alignment_gain * (1.0 - self.level)
        self.score_noise_sd *= 1.0 - joint.score_noise_reduction

    def _update_trust(self) -> None:
        model = self.model
        reached, passed = model.first_stage_reached, model.first_stage_passed
        model.first_stage_reached = model.first_stage_passed = 0
        if reached:
            alpha = 1.0 / self.trust_cfg.memory_weeks
            self.qualify_rate += alpha * (passed / reached - self.qualify_rate)
        self.trust = min(1.0, self.qualify_rate / self.trust_cfg.reference_qualify_rate)
        self._update_work_probability()

    def _update_work_probability(self) -> None:
        if self.trust_on:
            floor = self.trust_cfg.floor
            self.work_probability = floor + (1.0 - floor) * self.trust
