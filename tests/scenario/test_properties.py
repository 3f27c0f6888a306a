"""Properties: the loader never crashes on mangled input, distributions are coherent."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from funnelsim.scenario import distributions as d
from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import load_scenario
from funnelsim.scenario.schema import Scenario

VALID = {
    "name": "prop",
    "seed": 3,
    "horizon_weeks": 12,
    "calendar": {"hours_per_day": 8, "days_per_week": 5},
    "marketing": {
        "mql_threshold": 0.5,
        "channels": [
            {"name": "web", "leads_per_week": 100, "fit": {"dist": "beta", "a": 2, "b": 3}},
            {"name": "events", "leads_per_week": 20, "fit": {"dist": "normal", "mean": 0.6, "sd": 0.2}},
        ],
        "nurture": {"enabled": True, "max_emails": 4},
    },
    "sales": {
        "teams": [{"name": "ae", "reps": 3, "skill": {"dist": "uniform", "low": 0.4, "high": 0.9}}],
        "routing": "pool",
        "stages": [
            {"name": "qualify", "conversion": 0.3, "hours": 0.5},
            {"name": "close", "conversion": 0.4, "hours": {"dist": "gamma", "shape": 2, "scale": 1}},
        ],
        "response_curve": {"points": [[0, 1], [2, 0.5]]},
        "deal_value": {"dist": "lognormal", "median": 20000, "sigma": 0.5},
    },
}

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(-5, -1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 0),
    _text,
    st.sampled_from(["NO", "yes", "1e3", "~", "abc", "pool", "normal", "dist", "", "0o17", ".inf"]),
    st.sampled_from([".", "..", "mangled.yaml", "nope.yaml", "a\x00b", "/"]),  # for `extends`
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)


def _containers(node, path=()):
    """Every (path, container) in the document, the root included."""
    if isinstance(node, dict | list):
        yield path, node
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            yield from _containers(value, (*path, key))


@st.composite
def mutated_documents(draw):
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        spots = list(_containers(doc))
        _, node = spots[draw(st.integers(0, len(spots) - 1))]
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "replace"]))
        if op == "insert" or not keys:
            if isinstance(node, dict):
                node[draw(st.one_of(_text, st.sampled_from(["dist", "extends", "variants", "typo"])))] = draw(_values)
            else:
                node.append(draw(_values))
        elif op == "delete":
            del node[draw(st.sampled_from(keys))]
        else:
            node[draw(st.sampled_from(keys))] = draw(_values)
    return doc


def _dump(doc) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(doc, out)
    return out.getvalue()


@st.composite
def scenario_texts(draw):
    text = _dump(draw(mutated_documents()))
    if draw(st.integers(0, 4)) == 0:  # sometimes splice raw garbage into the text
        at = draw(st.integers(0, len(text)))
        garbage = draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20))
        text = text[:at] + garbage + text[at:]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=scenario_texts())
def test_mangled_scenarios_load_or_fail_cleanly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("prop", numbered=True) / "mangled.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        assert err.problems
        assert any(str(p).startswith(str(path)) for p in err.problems), str(err)
        assert all(p.file == str(path) for p in err.problems), str(err)
        assert len(str(err).splitlines()) == len(err.problems)
    else:
        assert isinstance(scenario, Scenario)


def test_the_unmutated_document_is_valid(tmp_path):
    path = tmp_path / "valid.yaml"
    path.write_text(_dump(VALID), encoding="utf-8")
    assert load_scenario(path).marketing.channels[1].fit.low == 0.0


DISTRIBUTIONS = [
    d.Constant(value=2.5),
    d.Uniform(dist="uniform", low=-1, high=3),
    d.Normal(dist="normal", mean=1, sd=2),
    d.Normal(dist="normal", mean=0.5, sd=1, low=0, high=1),
    d.LogNormal(dist="lognormal", median=100, sigma=0.8),
    d.Beta(dist="beta", a=2, b=5),
    d.Beta(dist="beta", a=0.5, b=0.5, low=10, high=20),
    d.Exponential(dist="exponential", mean=3),
    d.Triangular(dist="triangular", low=0, mode=1, high=4),
    d.Gamma(dist="gamma", shape=0.7, scale=2),
    d.Empirical(dist="empirical", values=[5, 1, 3, 3]),
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda x: f"{x.dist}")
def test_ppf_is_monotone_and_mean_matches_samples(dist):
    u = np.linspace(0.001, 0.999, 999)
    x = dist.ppf(u)
    assert x.shape == u.shape and np.all(np.isfinite(x))
    assert np.all(np.diff(x) >= -1e-12)
    lo, hi = dist.support()
    assert np.all((x >= lo) & (x <= hi))
    sample = dist.sample(np.random.default_rng(7), 200_000)
    assert math.isclose(float(sample.mean()), dist.mean(), rel_tol=0.02, abs_tol=0.01)


_PATHS = ["seed", "sales.teams[0].reps", "marketing.channels[1].fit", "sales.routing", "calendar", "sales.teams[2]"]
_overrides = st.one_of(
    st.text(max_size=30),
    st.builds(lambda p, v: f"{p}={v}", st.one_of(st.sampled_from(_PATHS), st.text(max_size=15)), st.text(max_size=20)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=st.lists(_overrides, max_size=3))
def test_random_overrides_load_or_fail_cleanly(tmp_path_factory, overrides):
    path = tmp_path_factory.mktemp("ovr", numbered=True) / "valid.yaml"
    path.write_text(_dump(VALID), encoding="utf-8")
    try:
        assert isinstance(load_scenario(path, overrides), Scenario)
    except ScenarioError as err:
        assert err.problems and all(p.file == "--set" for p in err.problems), str(err)
        assert len(str(err).splitlines()) == len(err.problems)
