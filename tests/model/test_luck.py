"""Each lead's luck: drawn once when it is bought, the same whatever the strategy."""

from __future__ import annotations

import numpy as np

from funnelsim.model.luck import LuckLayout
from funnelsim.model.model import FunnelModel
from tests.helpers import baseline


class Recording(FunnelModel):
    """Remembers the luck every bought lead was given, in the order bought."""

    def __init__(self, *args, **kwargs):
        self.given: list[tuple] = []
        super().__init__(*args, **kwargs)

    def draw_luck(self, n):
        luck, nurture_luck = super().draw_luck(n)
        w = self.layout.width
        self.given += [(tuple(luck[i * w : (i + 1) * w]), tuple(u)) for i, u in enumerate(nurture_luck.tolist())]
        return luck, nurture_luck


def _given(scenario) -> list:
    return Recording(scenario, rng=7).run().given


def test_layout_names_every_number_once():
    layout = LuckLayout(attempts=6, stages=4)
    spans = [
        (layout.reach, 6),
        (layout.attempt_hours, 6),
        (layout.outcome, 4),
        (layout.stage_hours, 4),
        (layout.delay, 4),
        (layout.patience, 4),
        (layout.trust, 1),
        (layout.refund, 1),
        (layout.refund_time, 1),
        (layout.referral, 1),
    ]
    cells = sorted(i for start, n in spans for i in range(start, start + n))
    assert cells == list(range(layout.width))


def test_luck_holds_what_the_layout_says():
    model = FunnelModel(baseline(horizon_weeks=1), rng=3)
    layout, sales = model.layout, model.sales
    luck = np.array(model.luck.draw(2000))
    uniforms = [layout.reach, layout.outcome, layout.patience]
    for start in uniforms:
        assert luck[:, start].min() >= 0.0 and luck[:, start].max() < 1.0
    assert np.all(luck[:, layout.attempt_hours : layout.attempt_hours + 6] == sales.contact.hours_per_attempt.value)
    for k, stage in enumerate(sales.stages):
        lo, hi = stage.hours.support()
        assert lo <= luck[:, layout.stage_hours + k].min() and luck[:, layout.stage_hours + k].max() <= hi
        dlo, dhi = stage.buyer_delay_days.support()
        h = model.calendar.hours_per_day
        delays = luck[:, layout.delay + k]
        assert dlo * h <= delays.min() and delays.max() <= dhi * h


def test_mql_threshold_does_not_reshuffle_the_leads_luck():
    """Nurtured leads keep the luck they were bought with, so the streams stay in step however
    many of them reach sales: every lead bought gets the same luck under either threshold."""
    low = _given(baseline(horizon_weeks=8, marketing={"mql_threshold": 0.5}))
    high = _given(baseline(horizon_weeks=8, marketing={"mql_threshold": 0.7}))
    assert len(low) > 3000 and low == high


def test_referrals_do_not_shift_the_bought_leads_luck():
    """Referrals come in some strategies only; they draw from their own stream."""
    off = _given(baseline(horizon_weeks=12))
    model = Recording(baseline(horizon_weeks=12, people={"referrals": {"probability_per_deal": 0.5}}), rng=7).run()
    assert model.referral_leads > 10
    assert model.given == off
