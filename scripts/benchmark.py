"""Benchmark: how long does the map take to follow a filter change?

Usage: .venv/bin/python scripts/benchmark.py [--incidents 100000] [--shifts N] [--repeat 3]

With the defaults: 100,000 incidents and the demo's realistic duty roster over
three years (``--shifts N`` scales it to about N shifts).

Prints figures; it asserts nothing. It measures the work done on a rerun after
a filter change (selection, coverage union, district figures, hexagons, and
building the map layers that are sent to the browser), and, separately, the
once-per-data-version work (reading the store, local times, footprints).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard import mapview  # noqa: E402
import numpy as np  # noqa: E402

from geodata import analysis, coverage, gaps, hexbin, hotspots  # noqa: E402
from geodata.analysis import Selection  # noqa: E402
from geodata.timewindow import TimeWindow  # noqa: E402
from loaders import bootstrap, demo  # noqa: E402
from loaders.store import GeoPackageStore  # noqa: E402


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--shifts", type=int, default=None, help="about this many shifts (default: the demo's duty roster)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore(Path(tmp) / "bench.gpkg")
        counts, t_demo = timed(demo.write_demo, store, seed=1, n_incidents=args.incidents, n_shifts=args.shifts)
        print(f"demo data: {counts['incidents']:,} incidents, {counts['patrols']:,} shifts; generated and stored in {t_demo:.2f} s")
        prep, t_prep = timed(bootstrap.load_prepared, store)
        _, t_kept = timed(bootstrap.load_prepared, store)  # the next app start reads what this one prepared
        vertices = int(prep.patrols.geometry.count_coordinates().sum())
        _, t_fp = timed(coverage.footprints, prep.patrols)
        _, t_index = timed(gaps.build_index, prep.incidents, prep.patrols, prep.footprints, prep.districts, prep.green_spaces,
                           prep.gaps.tolerance_min, prep.meeting_points)
        pres = prep.gaps.presence
        print(f"once per data version: read + prepare {t_prep:.2f} s in all, of which footprints {t_fp:.2f} s "
              f"({vertices:,} GPS points, tracks simplified to 5 m) and gap index {t_index:.2f} s "
              f"({len(prep.gaps.pair_incident):,} shift-incident pairs; {pres.n_cells:,} squares of {pres.grid_m:.0f} m, "
              f"{len(pres.rec_day):,} presence records (square, day, unit and mode), {len(pres.seg_start):,} square-days)")

        print(f"next app start: the prepared data read back from beside the store in {t_kept:.2f} s")

        cells_by_res = {}
        for res in (7, 8, 9):
            cells_by_res[res], t_cells = timed(hexbin.cells, prep.incidents, res)
            print(f"once per data version: H3 cells at resolution {res}: {t_cells:.2f} s")

        selections = {
            "all": Selection(),
            "night 20-4": Selection(window=TimeWindow(hours=(20, 4))),
            "outside centre": Selection(outside_centre=True),
            "weekend + insults": Selection(
                window=TimeWindow(weekdays=frozenset({5, 6})),
                categories=("racist_insult", "sexist_insult", "verbal_violence"),
            ),
            "foot patrols, evening": Selection(window=TimeWindow(hours=(18, 23)), modes=("foot",)),
        }
        print()
        print("after a filter change (median of runs):")
        print(f"{'filter change':24} {'incidents':>10} {'uncovered':>10} {'regular':>9} {'analyse':>9} {'gaps':>9} {'hotspots':>9} {'hexagons':>9} {'layers':>9} {'total':>9}")
        totals = []
        regular_times = []
        for name, sel in selections.items():
            runs = []
            for _ in range(args.repeat):
                _, t_reg = timed(lambda: gaps.covered_regular(prep.gaps, gaps.regular_presence(prep.gaps, sel.window, sel.units, sel.modes)))
                result, t_an = timed(analysis.analyse, prep, sel)

                def gap_views():
                    gaps.presence(prep.gaps, result.shift_ok, sel.window, len(prep.districts))
                    gaps.incidents_by_week(result.incidents)
                    gaps.ranking_table(result)
                    covered = np.zeros(len(prep.incidents), dtype=bool)
                    covered[result.incidents.index[result.incidents["covered"].to_numpy()]] = True
                    gaps.green_ranking(result.green_spaces, prep.gaps, result.incident_mask, covered)
                    gaps.meeting_point_report(prep.meeting_points, prep.facilities, result.incidents, result.meeting_covered)

                _, t_gaps = timed(gap_views)
                # as the app does it: with the cells of the data version (dashboard.cache.hotspot_cells)
                _, t_hot = timed(
                    hotspots.hotspots, result.incidents, prep.districts, result.incidents["covered"].to_numpy(),
                    cell_ids=cells_by_res[9][result.incidents.index.to_numpy()],
                )
                cells = pd.Series(cells_by_res[8][result.incidents.index.to_numpy()])
                hexes, t_hex = timed(hexbin.hexagons, cells)

                def build():
                    groups = {
                        "districts": mapview.districts_layer(result.districts, "incidents_per_1000", None, "de", marks=False)[0],
                        "green": mapview.green_layer(result.green_spaces, "de"),
                        "coverage": mapview.coverage_layer(gpd.GeoSeries([analysis.coverage_area(prep, result)], crs=25833).to_crs(4326)),
                        "incidents": mapview.hex_layer(hexes, "de"),
                    }
                    return sum(len(mapview.layer_script(g, name)) for name, g in groups.items())

                size, t_layers = timed(build)
                runs.append((t_reg, t_an, t_gaps, t_hot, t_hex, t_layers))
            t_reg, t_an, t_gaps, t_hot, t_hex, t_layers = (statistics.median(x) for x in zip(*runs))
            total = t_an + t_gaps + t_hot + t_hex + t_layers
            totals.append(total)
            regular_times.append(t_reg)
            n_unc = int((~result.incidents["covered"]).sum())
            print(f"{name:24} {len(result.incidents):>10,} {n_unc:>10,} {t_reg * 1000:>7.0f}ms {t_an * 1000:>7.0f}ms {t_gaps * 1000:>7.0f}ms {t_hot * 1000:>7.0f}ms "
                  f"{t_hex * 1000:>7.0f}ms {t_layers * 1000:>7.0f}ms {total * 1000:>7.0f}ms")
        print()
        print(f"regular presence and covered incidents after a filter change: median {statistics.median(regular_times) * 1000:.0f} ms "
              f"(max {max(regular_times) * 1000:.0f} ms; included in 'analyse')")
        print(f"median work after a filter change (analysis, gap views, hotspots, map layers): {statistics.median(totals) * 1000:.0f} ms (max {max(totals) * 1000:.0f} ms); "
              f"map layer payload about {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
