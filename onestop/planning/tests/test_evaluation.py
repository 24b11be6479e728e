"""Wait-predictor evaluation: one test per scenario against the targets of the issue.

Targets (issue): stationary – default within 3 % of the best (QL) and >= 30 % better than
LES; other scenarios – >= 15 % better than plain QL and >= 30 % better than LES; P95
exceeded by 5 % ± 1.5 % of citizens. One is out of reach and is kept here as a strict
expected failure, with the figures in docs/planning.md: with a constant roster and no
walk-aways the default's mean *is* QL (same formula), and in these two scenarios nothing
a queue knows does much better (QL is the exact conditional mean for exponential
services; even the exact conditional mean given the services in progress gains about
3 % with lognormal ones).
"""

from __future__ import annotations

import pytest

from onestop.planning.evaluation import evaluate_scenario, format_report, scenarios

TRAIN_DAYS, TEST_DAYS, SEED = 20, 30, 0


@pytest.fixture(scope="module")
def results():
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = evaluate_scenario(
                scenarios()[name], TRAIN_DAYS, TEST_DAYS, seed=SEED, workers=2
            )
        return cache[name]

    return get


def default_row(res):
    return res["rows"]["default"]


def p95_ok(res):
    return abs(default_row(res)["p95_exceeded"] - 0.05) <= 0.015


def test_stationary(results):
    res = results("stationary")
    rows = res["rows"]
    assert res["announced_matches_default"]
    best = min(rows[k]["rmse"] for k in ("LES", "HOL", "QL", "QL_m"))
    assert rows["QL"]["rmse"] == best
    assert default_row(res)["rmse"] <= 1.03 * best
    assert default_row(res)["gain_vs_LES"] >= 0.30
    assert p95_ok(res)
    assert all(res["targets"].values())


def test_patience(results):
    res = results("patience")
    assert res["announced_matches_default"]
    d = default_row(res)
    assert d["gain_vs_QL"] >= 0.15
    assert d["gain_vs_LES"] >= 0.30
    assert p95_ok(res)
    assert res["rows"]["QL_m"]["rmse"] < res["rows"]["QL"]["rmse"]  # walk-aways matter


def test_lognormal(results):
    res = results("lognormal")
    d = default_row(res)
    assert d["gain_vs_LES"] >= 0.30
    # Constant roster, no walk-aways: the default's mean is the QL formula itself.
    assert d["rmse"] == pytest.approx(res["rows"]["QL"]["rmse"], rel=1e-9)
    # The service cv is learned (0.6 in the scenario) ...
    assert res["rates"]["A"][2] == pytest.approx(0.6, abs=0.03)
    # ... and without it the P95 (the exponential one, QL's) is cautious.
    assert res["rows"]["QL"]["p95_exceeded"] < 0.035


def test_swing(results):
    res = results("swing")
    d = default_row(res)
    assert d["gain_vs_LES"] >= 0.30
    assert p95_ok(res)
    assert d["rmse"] == pytest.approx(res["rows"]["QL"]["rmse"], rel=1e-9)


def test_lunch(results):
    res = results("lunch")
    d = default_row(res)
    assert d["gain_vs_QL"] >= 0.15
    assert d["gain_vs_LES"] >= 0.30
    assert p95_ok(res)
    assert "| default |" in format_report([res])


@pytest.mark.xfail(
    strict=True,
    reason="default mean equals QL with a constant roster and no walk-aways, and nothing a "
    "queue knows beats it by 15 % here (see docs/planning.md)",
)
@pytest.mark.parametrize("name", ["lognormal", "swing"])
def test_default_beats_ql_by_15_percent(results, name):
    assert default_row(results(name))["gain_vs_QL"] >= 0.15


def test_lognormal_p95_calibrated(results):
    # The learned service cv (0.6) narrows the announced P95 to the right width.
    assert p95_ok(results("lognormal"))
