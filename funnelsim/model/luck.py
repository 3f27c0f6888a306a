"""Each lead's luck, drawn when it is bought: one place says which number is what.

Everything random about a lead's time in sales (whether each contact attempt reaches it, the
uniform that decides each stage, the hours each task takes, the buyer's delays, its patience,
and the trust, refund and referral draws) is drawn up front from purpose streams. Two strategies
run with the same seed therefore give the same lead the same luck, even when only the MQL
threshold or the team changes (common random numbers).
"""

from __future__ import annotations

from array import array

import numpy as np


class LuckLayout:
    """Offsets into a lead's luck for `attempts` contact attempts and `stages` stages.

    `reach + a`: uniform deciding whether attempt a reaches the lead;
    `attempt_hours + a`: rep hours of attempt a;
    `outcome + k`: uniform deciding stage k; `stage_hours + k`: rep hours of stage k;
    `delay + k`: business hours the buyer takes before stage k; `patience + k`: uniform deciding
    whether the buyer has gone cold by then; then one uniform each for `trust` (is the lead
    worked at all), `refund` (is an oversold deal refunded), `refund_time` and `referral`.
    Plain integers, read in the model's hot path.
    """

    __slots__ = (
        "attempts",
        "stages",
        "reach",
        "attempt_hours",
        "outcome",
        "stage_hours",
        "delay",
        "patience",
        "trust",
        "refund",
        "refund_time",
        "referral",
        "width",
    )

    def __init__(self, attempts: int, stages: int):
        a, s = attempts, stages
        self.attempts, self.stages = a, s
        self.reach = 0
        self.attempt_hours = a
        self.outcome = 2 * a
        self.stage_hours = 2 * a + s
        self.delay = 2 * a + 2 * s
        self.patience = 2 * a + 3 * s
        self.trust = 2 * a + 4 * s
        self.refund = self.trust + 1
        self.refund_time = self.trust + 2
        self.referral = self.trust + 3
        self.width = self.trust + 4


class LuckDrawer:
    """Draws the luck of a batch of leads; hours and delays come out already transformed."""

    def __init__(
        self, layout: LuckLayout, outcomes: np.random.Generator, durations: np.random.Generator, sales, hours_per_day
    ):
        self.layout = layout
        self.outcomes = outcomes
        self.durations = durations
        self.attempt_hours = sales.contact.hours_per_attempt
        self.stage_hours = [s.hours for s in sales.stages]
        self.buyer_delays = [s.buyer_delay_days for s in sales.stages]
        self.hours_per_day = hours_per_day

    def draw(self, n: int) -> list[array]:
        """One typed array per lead (8 bytes a number instead of a 32-byte float object)."""
        block, width = self.draw_block(n), self.layout.width
        return [block[i * width : (i + 1) * width] for i in range(n)]

    def draw_block(self, n: int) -> array:
        """The luck of `n` leads, lead after lead, `layout.width` numbers each.

        The uniforms come in the order the layout lists them (reach, outcome, then patience,
        trust, refund, refund time, referral from one stream; attempt hours, stage hours and
        delays from another), so each stream is consumed the same way whatever the batch size.
        """
        a, s = self.layout.attempts, self.layout.stages
        u = self.outcomes.random((n, a + 2 * s + 4))
        dur = self.durations.random((n, a + 2 * s))
        h = self.hours_per_day
        cols = [u[:, :a], self.attempt_hours.ppf(dur[:, :a]), u[:, a : a + s]]
        cols += [self.stage_hours[k].ppf(dur[:, a + k])[:, None] for k in range(s)]
        cols += [self.buyer_delays[k].ppf(dur[:, a + s + k])[:, None] * h for k in range(s)]
        cols.append(u[:, a + s :])
        return array("d", np.hstack(cols).tobytes())
