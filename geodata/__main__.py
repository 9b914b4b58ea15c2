"""Command line: `python -m geodata gaps ...` prints the district gap ranking.

Reads the store named by ATLAS_DB (or --db). This entry point is the only
module of ``geodata`` that touches storage; the analysis itself stays pure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date

from geodata import domain
from geodata.gaps import ranking_table, records
from geodata.analysis import Selection, analyse
from geodata.timewindow import TimeWindow

def parse_hours(text: str) -> tuple[int, int]:
    """'22-3' → (22, 3): 22:00 to 03:00, end exclusive, wrapping midnight."""
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"hours must look like 22-3, not {text!r}") from None
    if not (0 <= start <= 23 and 0 <= end <= 24):
        raise argparse.ArgumentTypeError("hours must lie within 0..24")
    return start, end


def parse_reach(text: str) -> dict[str, float]:
    """'foot=150,bike=250,vehicle=400' → reach in metres per mode."""
    out = {}
    for item in filter(None, text.split(",")):
        mode, _, metres = item.partition("=")
        if mode not in domain.MODES:
            raise argparse.ArgumentTypeError(f"unknown mode {mode!r}; known: {', '.join(domain.MODES)}")
        out[mode] = float(metres)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geodata", description="Gap analysis of the Präventionsatlas store.")
    parser.add_argument("--db", help="store location (default: $ATLAS_DB or data/atlas.gpkg)")
    sub = parser.add_subparsers(dest="command", required=True)
    gaps = sub.add_parser("gaps", help="print the district ranking by gap score (incidents without regular patrol per 1,000 inhabitants)")
    gaps.add_argument("--outside-centre", action="store_true", help="leave out the centre district")
    gaps.add_argument("--centre", default=os.environ.get("ATLAS_CENTRE", domain.DEFAULT_CENTRE_DISTRICT))
    gaps.add_argument("--from", dest="date_from", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
    gaps.add_argument("--to", dest="date_to", type=date.fromisoformat, help="last day, inclusive (YYYY-MM-DD)")
    gaps.add_argument("--hours", type=parse_hours, default=(0, 24), help="e.g. 22-3: 22:00 to 03:00 (end exclusive)")
    gaps.add_argument("--reach", type=parse_reach, default={}, help="e.g. foot=150,bike=250,vehicle=400 (metres)")
    gaps.add_argument("--tolerance", type=int, default=None,
                      help="minutes around an incident for 'patrol nearby' (default: $ATLAS_COVER_MINUTES or 60)")
    gaps.add_argument("--regular-share", type=float, default=None,
                      help="share of the weeks with a patrol that makes presence regular (default: $ATLAS_REGULAR_SHARE or 0.5)")
    gaps.add_argument("--format", choices=("json", "csv"), default="json")
    args = parser.parse_args(argv)

    from loaders.bootstrap import load_prepared
    from loaders.store import open_store

    store = open_store(args.db)
    if not store.layers():
        print(f"the store {store.location} holds no data; run `python -m loaders demo` or import data first", file=sys.stderr)
        return 2
    if args.regular_share is not None and not 0 < args.regular_share <= 1:
        parser.error("--regular-share must lie in (0, 1]")
    prep = load_prepared(store, reach=args.reach, tolerance_min=args.tolerance, regular_share=args.regular_share)
    window = TimeWindow(date_from=args.date_from, date_to=args.date_to, hours=args.hours)
    result = analyse(prep, Selection(window=window, outside_centre=args.outside_centre, centre=args.centre))
    table = ranking_table(result)
    if args.format == "csv":
        sys.stdout.write(table.to_csv(index=False))
    else:
        json.dump(records(table), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
