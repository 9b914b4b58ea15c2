"""Command line: `python -m loaders demo|import ...` (store from ATLAS_DB)."""

from __future__ import annotations

import argparse
import sys
import time

from loaders import schema
from loaders.importer import ImportFailed, import_file
from loaders.store import open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders", description="Fill the Präventionsatlas store.")
    parser.add_argument("--db", help="store location (default: $ATLAS_DB or data/atlas.gpkg)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write the generated demo dataset (replaces every layer)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--incidents", type=int, default=20_000)
    imp = sub.add_parser("import", help="import a GeoJSON or CSV file into a layer")
    imp.add_argument("layer", choices=sorted(schema.SPECS))
    imp.add_argument("file")
    group = imp.add_mutually_exclusive_group()
    group.add_argument("--replace", dest="mode", action="store_const", const="replace")
    group.add_argument("--append", dest="mode", action="store_const", const="append")
    imp.add_argument("--licence", default="as provided", help="licence of the imported data")
    args = parser.parse_args(argv)
    store = open_store(args.db)

    if args.command == "demo":
        from loaders import demo as demo_data

        t0 = time.perf_counter()
        counts = demo_data.write_demo(store, seed=args.seed, n_incidents=args.incidents)
        took = time.perf_counter() - t0
        summary = ", ".join(f"{layer} {n}" for layer, n in counts.items())
        print(f"Demo data written to {store.location} in {took:.1f} s: {summary}")
        return 0

    try:
        summary = import_file(store, args.layer, args.file, mode=args.mode or "replace", licence=args.licence)
    except ImportFailed as exc:
        print("Import failed, nothing was stored:", file=sys.stderr)
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        return 2
    print(summary.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
