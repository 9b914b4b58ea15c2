"""Disclosure control: what a role below council can compute from what it receives.

The attacks of the probe: a rate times its population, a total minus its other
parts, and the difference of two filters (all categories against all but one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import privacy
from geodata.privacy import MAX_NOISE, release, release_by, release_districts, release_total

K = 3
SECRET = b"0123456789abcdef0123456789abcdef"


def test_release_rules():
    n = np.array([0, 1, 2, 3, 10, 200])
    keysum = np.array([0.3, 0.3, 0.9, 0.5, 7.25, 41.6])
    out = release(n, keysum, K)
    assert out[0] == 0 and np.isnan(out[1]) and np.isnan(out[2])
    shown = ~np.isnan(out)
    assert (np.abs(out[shown] - n[shown]) <= MAX_NOISE).all() and (out[shown][1:] >= K).all()
    assert np.array_equal(release(n, keysum, 1), n)  # council: true counts
    assert np.array_equal(release(n, keysum, K), out, equal_nan=True)  # the same cells, the same answer


def test_noise_follows_its_table():
    keys = np.random.default_rng(0).random(200_000)
    e = privacy.noise(keys)
    shares = [np.mean(e == v) for v in privacy.NOISE]
    assert np.allclose(shares, privacy.NOISE_P, atol=0.01)


def test_record_keys_are_stable_uniform_and_secret():
    ids = [f"I-{i}" for i in range(20_000)]
    a = privacy.record_keys(ids, SECRET)
    assert np.array_equal(a, privacy.record_keys(ids, SECRET))
    assert 0.49 < a.mean() < 0.51 and a.min() >= 0 and a.max() < 1
    other = privacy.record_keys(ids, b"another secret of thirty-two by")
    assert np.corrcoef(a, other)[0, 1] < 0.05


def incidents(draw_counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [(d, c) for (d, c), n in draw_counts.items() for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["district", "category"])
    frame["id"] = [f"I{i}" for i in range(len(frame))]
    frame["ckey"] = privacy.record_keys(frame["id"], SECRET)
    frame["covered"] = False
    frame["patrol_nearby"] = False
    return frame


DISTRICTS = ["01", "02", "03", "04"]
CATEGORIES = ["racist_insult", "sexist_insult", "drugs"]
POP = {"01": 1383.0, "02": 7093.0, "03": 16092.0, "04": 2774.0}


def district_table() -> pd.DataFrame:
    return pd.DataFrame({"code": DISTRICTS, "name": DISTRICTS, "population": [POP[d] for d in DISTRICTS],
                         "area_km2": 2.0, "in_scope": True, "incidents": 0, "incidents_per_1000": 0.0,
                         "incidents_per_km2": 0.0, "small_count": False})


def released(frame: pd.DataFrame) -> pd.DataFrame:
    table = district_table()
    return release_districts(table, frame, K).set_index("code")


counts = st.dictionaries(
    st.tuples(st.sampled_from(DISTRICTS), st.sampled_from(CATEGORIES)), st.integers(0, 12), min_size=1
)


def consistent(r: float) -> set[int]:
    """True counts that could have been released as ``r`` (the rules are public)."""
    if r == 0:
        return {0}
    if np.isnan(r):
        return set(range(1, K + MAX_NOISE))  # small, or just above the threshold and pushed below it
    return set(range(max(K, int(r) - MAX_NOISE), int(r) + MAX_NOISE + 1))


@settings(max_examples=200, deadline=None)
@given(counts=counts, drop=st.sampled_from(CATEGORIES))
def test_no_small_count_can_be_recovered(counts, drop):
    full = incidents(counts)
    part = full[full["category"] != drop]
    a, b = released(full), released(part)
    for d in DISTRICTS:
        true_a = int((full["district"] == d).sum())
        true_b = int((part["district"] == d).sum())
        # 1. a rate times its population gives the released count, never a small true count
        rate_back = a.loc[d, "incidents_per_1000"] * POP[d] / 1000
        if 0 < true_a < K:
            assert np.isnan(rate_back)
        elif not np.isnan(rate_back):
            assert rate_back == pytest.approx(a.loc[d, "incidents"])
        # 2. the difference of two filters: the published figures fit more than one small difference
        small = true_a - true_b
        if 0 < small < K:
            candidates = {x - y for x in consistent(a.loc[d, "incidents"]) for y in consistent(b.loc[d, "incidents"])}
            assert small in candidates and len(candidates) > 1
    # 3. a total minus its other parts: the total is a cell of its own
    total = release_total(full["ckey"].to_numpy(), K)
    parts = a["incidents"]
    for d in DISTRICTS:
        true_d = int((full["district"] == d).sum())
        if 0 < true_d < K and not np.isnan(total) and parts.drop(d).notna().all():
            lo = sum(min(consistent(v)) for v in parts.drop(d))
            hi = sum(max(consistent(v)) for v in parts.drop(d))
            guesses = {t - o for t in consistent(total) for o in range(lo, hi + 1)}
            assert true_d in guesses and len(guesses) > 1


def test_the_attacks_guess_wrong_most_of_the_time():
    """Naive attackers take the published figures at face value: with the noise they hit the
    true small count in about a third of the cases at most (without it: always)."""
    rng = np.random.default_rng(7)
    hits_diff = hits_total = trials = 0
    for trial in range(1500):
        n_other = int(rng.integers(20, 200))
        small = int(rng.integers(1, K))
        keys_other = rng.random(n_other)
        keys_small = rng.random(small)
        both = np.concatenate([keys_other, keys_small])
        with_small = release(np.array([len(both)]), np.array([both.sum()]), K)[0]
        without = release(np.array([n_other]), np.array([keys_other.sum()]), K)[0]
        hits_diff += with_small - without == small
        # a total over two districts minus the large one
        big = rng.random(int(rng.integers(20, 200)))
        total = release(np.array([len(big) + len(keys_small)]), np.array([big.sum() + keys_small.sum()]), K)[0]
        part = release(np.array([len(big)]), np.array([big.sum()]), K)[0]
        hits_total += total - part == small
        trials += 1
    assert hits_diff / trials < 0.4 and hits_total / trials < 0.4


def test_release_by_counts_every_label():
    out = release_by(np.array(["a", "a", "a", "a", "b"]), np.array([0.1, 0.1, 0.1, 0.2, 0.5]), K, ["a", "b", "c"])
    assert out["c"] == 0 and np.isnan(out["b"]) and out["a"] == 4  # cell key 0.5: no noise


def test_district_table_derives_everything_from_released_counts():
    frame = incidents({("01", "drugs"): 1, ("02", "drugs"): 40, ("03", "racist_insult"): 7})
    frame.loc[frame.index[frame["district"] == "02"][:20], "covered"] = True
    table = district_table().assign(incidents_uncovered=0, gap_score=0.0, too_small=False, rank=pd.NA,
                                    incident_share=0.0, patrol_hour_share=0.25, supply_ratio=1.0, incidents_patrol_nearby=0)
    out = release_districts(table, frame, K).set_index("code")
    assert np.isnan(out.loc["01", "incidents"]) and np.isnan(out.loc["01", "incidents_per_1000"])
    assert np.isnan(out.loc["01", "gap_score"]) and np.isnan(out.loc["01", "incident_share"]) and bool(out.loc["01", "too_small"])
    assert out.loc["02", "incidents_per_1000"] == pytest.approx(out.loc["02", "incidents"] / POP["02"] * 1000)
    assert out.loc["02", "gap_score"] == pytest.approx(out.loc["02", "incidents_uncovered"] / POP["02"] * 1000)
    assert out.loc["04", "incidents"] == 0
