"""Felt safety (Safe-City-Lab workshops) set against recorded incidents, per district.

Pure functions: (Geo)DataFrames in, new (Geo)DataFrames out. No store access.

Workshop participants mark places where they feel unsafe or safe
(``observations``: id, workshop_id, feeling, reasons, time_of_day, comment,
created_at, hidden, Point geometry). Hidden observations (``hidden == 1``, set
by moderation) are ignored by every function here.

``perception_by_district`` compares two rates per district, both per 1,000
inhabitants: "unsafe" observations (felt) and incidents (recorded). Each rate
is turned into a z-score across the districts that have any data (at least one
observation or incident, and a population); the difference of the two z-scores
is the *discrepancy*:

- ``feels_unsafe_few_records``: discrepancy >= ``DISCREPANCY_THRESHOLD`` (1 standard
  deviation) and at least ``MIN_UNSAFE`` (3) unsafe observations: people feel
  unsafe here clearly more than the records would suggest;
- ``records_but_feels_safe``: discrepancy <= -``DISCREPANCY_THRESHOLD`` and at least
  ``MIN_INCIDENTS`` (5) incidents: clearly more is recorded than people feel;
- ``in_line``: everything else with data;
- ``no_data``: neither observations nor incidents.

The minimum counts keep one or two entries from labelling a small district.
Workshop entries are not a sample of the population: a district nobody in the
workshop knows gets no entries, so ``MIN_OBSERVATIONS_FEELS_SAFE`` (1) requires at
least one entry before a district is called "feels safe".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata import domain
from geodata.figures import assign_district

# Thresholds of the classification (see the module docstring).
DISCREPANCY_THRESHOLD = 1.0  # |perceived_z - recorded_z| in standard deviations
MIN_UNSAFE = 3  # "feels unsafe, few records" needs at least this many unsafe observations
MIN_INCIDENTS = 5  # "records, but feels safe" needs at least this many incidents
MIN_OBSERVATIONS_FEELS_SAFE = 1  # ... and at least this many observations in the district

KINDS = ("feels_unsafe_few_records", "records_but_feels_safe", "in_line", "no_data")

COLUMNS = [
    "code", "name", "population",
    "unsafe", "safe", "observations", "unsafe_per_1000",
    "incidents", "incidents_per_1000",
    "perceived_z", "recorded_z", "discrepancy", "kind",
]


def visible(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations that are not hidden (all of them without a ``hidden`` column)."""
    if "hidden" not in observations.columns:
        return observations
    hidden = pd.to_numeric(observations["hidden"], errors="coerce").fillna(0).astype(int) == 1
    return observations[~hidden.to_numpy()]


def zscores(values: pd.Series, mask: pd.Series) -> pd.Series:
    """z-scores of ``values`` over the rows in ``mask`` (population standard deviation);
    0 for all of them when the spread is 0; NaN outside the mask and for missing values."""
    out = pd.Series(np.nan, index=values.index, dtype=float)
    mask = mask & values.notna()  # a withheld value gets no z-score
    sample = values[mask]
    if not len(sample):
        return out
    spread = sample.std(ddof=0)
    if not np.isfinite(spread) or spread == 0:
        out[mask] = 0.0
    else:
        out[mask] = (sample - sample.mean()) / spread
    return out


def perception_by_district(
    observations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    incident_counts: pd.Series | None,
) -> gpd.GeoDataFrame:
    """Felt and recorded safety per district (one row per district, in the districts' order and CRS).

    ``districts``: code, name, population, geometry. ``incident_counts``: incidents per
    district code (missing codes count 0; NaN: a count withheld by disclosure control, kept as
    NaN with its rate and z-score). An observation on a shared boundary counts for
    one district only. Columns: code, name, population, unsafe, safe, observations,
    unsafe_per_1000, incidents, incidents_per_1000, perceived_z, recorded_z, discrepancy,
    kind (see the module docstring), geometry. Rates are NaN without a population; such
    districts get no z-scores and are never flagged.
    """
    d = districts.reset_index(drop=True)
    codes = d["code"].astype(str)
    obs = visible(observations)
    if len(obs):
        located = assign_district(obs.reset_index(drop=True), d)
        inside = located[located["district"].notna()]
        feeling = inside["feeling"].astype(str)
        unsafe = inside.loc[(feeling == "unsafe").to_numpy(), "district"].astype(str).value_counts()
        safe = inside.loc[(feeling == "safe").to_numpy(), "district"].astype(str).value_counts()
        total = inside["district"].astype(str).value_counts()
    else:
        unsafe = safe = total = pd.Series(dtype="int64")

    def per_code(counts: pd.Series) -> np.ndarray:
        return counts.reindex(codes).fillna(0).astype("int64").to_numpy()

    incidents = pd.Series(dtype=float) if incident_counts is None else incident_counts.copy()
    incidents.index = incidents.index.astype(str)
    incidents = pd.to_numeric(incidents, errors="coerce")
    incidents = incidents[~incidents.index.duplicated(keep="first")]

    out = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": d["name"].to_numpy() if "name" in d.columns else codes.to_numpy(),
            "population": pd.to_numeric(d["population"], errors="coerce").to_numpy(dtype=float)
            if "population" in d.columns
            else np.full(len(d), np.nan),
            "unsafe": per_code(unsafe),
            "safe": per_code(safe),
            "observations": per_code(total),
            "incidents": incidents.reindex(codes).where(codes.isin(incidents.index).to_numpy(), 0.0).round().to_numpy(dtype=float),
        }
    )
    population = out["population"].where(out["population"] > 0)
    out["unsafe_per_1000"] = out["unsafe"] / population * 1000
    out["incidents_per_1000"] = out["incidents"] / population * 1000

    has_data = (out["observations"] > 0) | (out["incidents"] > 0) | out["incidents"].isna()
    rated = has_data & population.notna()
    out["perceived_z"] = zscores(out["unsafe_per_1000"], rated)
    out["recorded_z"] = zscores(out["incidents_per_1000"], rated)
    out["discrepancy"] = out["perceived_z"] - out["recorded_z"]

    kind = np.full(len(out), "in_line", dtype=object)
    disc = out["discrepancy"].to_numpy()
    with np.errstate(invalid="ignore"):
        feels_unsafe = (disc >= DISCREPANCY_THRESHOLD) & (out["unsafe"].to_numpy() >= MIN_UNSAFE)
        feels_safe = (
            (disc <= -DISCREPANCY_THRESHOLD)
            & (out["incidents"].to_numpy() >= MIN_INCIDENTS)
            & (out["observations"].to_numpy() >= MIN_OBSERVATIONS_FEELS_SAFE)
        )
    kind[feels_unsafe] = "feels_unsafe_few_records"
    kind[feels_safe] = "records_but_feels_safe"
    kind[~has_data.to_numpy()] = "no_data"
    out["kind"] = kind
    return gpd.GeoDataFrame(out[COLUMNS], geometry=d.geometry.to_numpy(), crs=d.crs)


def reasons_summary(observations: pd.DataFrame, feeling: str | None = None) -> pd.Series:
    """How often each reason key was given (visible observations; optionally of one feeling).

    Only reasons that occur, most frequent first (ties in the order of ``domain.REASONS``).
    """
    obs = visible(observations)
    if feeling is not None and len(obs):
        obs = obs[(obs["feeling"] == feeling).to_numpy()]
    counts: dict[str, int] = {}
    if len(obs) and "reasons" in obs.columns:
        for value in obs["reasons"]:
            if not isinstance(value, str):
                continue
            for key in {r.strip() for r in value.split(",") if r.strip()}:
                counts[key] = counts.get(key, 0) + 1
    order = {k: i for i, k in enumerate(domain.REASONS)}
    keys = sorted(counts, key=lambda k: (-counts[k], order.get(k, len(order)), k))
    return pd.Series([counts[k] for k in keys], index=pd.Index(keys, dtype=object, name="reason"), name="count", dtype="int64")


def workshop_district_counts(observations: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Visible observations per workshop (rows, by id) and district (columns, by code; all districts)."""
    codes = districts["code"].astype(str).tolist()
    obs = visible(observations)
    if not len(obs):
        return pd.DataFrame(columns=codes, dtype="int64")
    located = assign_district(obs.reset_index(drop=True), districts.reset_index(drop=True))
    located = located[located["district"].notna()]
    table = pd.crosstab(located["workshop_id"].astype(str), located["district"].astype(str))
    return table.reindex(columns=codes, fill_value=0).astype("int64")


def workshop_comparison(
    observations: pd.DataFrame,
    workshops: pd.DataFrame,
    districts: gpd.GeoDataFrame | None = None,
    top: int = 3,
    lang: str | None = None,
) -> pd.DataFrame:
    """One row per workshop (in the order of ``workshops``) to compare them side by side.

    Columns: id, title, date, observations, unsafe, safe, unsafe_share (0-1, NaN without
    observations), top_reasons (the ``top`` most frequent reasons with counts, e.g.
    "poor_lighting (5), deserted (3)"; keys, or labels when ``lang`` is given), and
    by_district ("01 Zentrum: 12, 02 Rand: 3", most entries first). Per-district counts
    need ``districts`` (code, name, geometry) or a ``district`` column in
    ``observations``; without either, by_district is empty. Hidden observations are ignored.
    """
    obs = visible(observations)
    names: dict[str, str] = {}
    if districts is not None and len(obs) and isinstance(obs, gpd.GeoDataFrame):
        obs = assign_district(obs.reset_index(drop=True), districts.reset_index(drop=True))
    if districts is not None and "name" in districts.columns:
        names = dict(zip(districts["code"].astype(str), districts["name"].astype(str)))
    rows = []
    for ws in workshops.itertuples(index=False):
        ws_id = str(ws.id)
        mine = obs[(obs["workshop_id"].astype(str) == ws_id).to_numpy()] if len(obs) else obs
        n = len(mine)
        n_unsafe = int((mine["feeling"] == "unsafe").sum()) if n else 0
        n_safe = int((mine["feeling"] == "safe").sum()) if n else 0
        reasons = reasons_summary(mine).head(top) if n else pd.Series(dtype="int64")
        top_reasons = ", ".join(
            f"{_label(domain.REASONS, k, lang)} ({int(v)})" for k, v in reasons.items()
        )
        by_district = ""
        if n and "district" in mine.columns:
            counts = mine["district"].dropna().astype(str).value_counts()
            counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            by_district = ", ".join(
                f"{code} {names[code]}: {int(c)}" if code in names else f"{code}: {int(c)}" for code, c in counts.items()
            )
        rows.append(
            {
                "id": ws_id,
                "title": getattr(ws, "title", None),
                "date": getattr(ws, "date", None),
                "observations": n,
                "unsafe": n_unsafe,
                "safe": n_safe,
                "unsafe_share": n_unsafe / n if n else np.nan,
                "top_reasons": top_reasons,
                "by_district": by_district,
            }
        )
    columns = ["id", "title", "date", "observations", "unsafe", "safe", "unsafe_share", "top_reasons", "by_district"]
    return pd.DataFrame(rows, columns=columns)


def _label(vocab: dict[str, domain.Term], key: str, lang: str | None) -> str:
    if lang is None or key not in vocab:
        return key
    return vocab[key].label(lang)
