"""Command line: `python -m loaders demo|import|fetch ...` (store from ATLAS_DB or --db).

Exit status: 0 done; 1 a remote source could not be reached; 2 the input is
invalid (file or answer); in both error cases nothing was stored.
"""

from __future__ import annotations

import argparse
import sys
import time

from geodata import domain
from loaders import schema
from loaders.http import SourceFormatError, SourceUnavailable, stderr_progress
from loaders.importer import ImportFailed, import_file
from loaders.store import open_store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders", description="Fill the Präventionsatlas store.")
    parser.add_argument("--db", help="store location (default: $ATLAS_DB or data/atlas.gpkg)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the generated demo dataset (replaces every layer)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--incidents", type=int, default=20_000)
    demo.add_argument("--shifts", type=int, default=None, help="about this many patrol shifts (default: the full duty roster, about 8 a day)")

    imp = sub.add_parser("import", help="import a file (GeoJSON, GeoPackage, zipped Shapefile, GPX, CSV) into a layer")
    imp.add_argument("layer", choices=sorted(schema.SPECS))
    imp.add_argument("file")
    group = imp.add_mutually_exclusive_group()
    group.add_argument("--replace", dest="mode", action="store_const", const="replace", help="replace the layer (default)")
    group.add_argument("--append", dest="mode", action="store_const", const="append", help="add to the layer")
    imp.add_argument("--licence", default="as provided", help="licence of the imported data")
    imp.add_argument("--unit", choices=sorted(domain.UNITS), help="patrol unit for files without one (GPX)")
    imp.add_argument("--mode", dest="patrol_mode", choices=sorted(domain.MODES), help="patrol mode for files without one (GPX)")

    fetch = sub.add_parser("fetch", help="fetch a layer from its official source (replaces the layer)")
    fetch.add_argument("source", help="districts, facilities, green_spaces or crime_stats")
    fetch.add_argument("--url", help="another address for the source (mirror, test server)")
    fetch.add_argument("--year", type=int, help="crime_stats: the atlas edition year, when the URL does not tell")
    return parser


def _fetch(store, args) -> int:
    from loaders import sources

    known = sources.registry()
    if args.source not in known:
        print(f"unknown source '{args.source}'; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    progress = stderr_progress(f"{args.source}: downloading")
    try:
        options = {"year": args.year} if args.source == "crime_stats" else {}
        source, rows = sources.run(store, args.source, args.url, progress, **options)
    except SourceUnavailable as exc:
        print(f"{args.source}: source not reachable, nothing changed: {exc}", file=sys.stderr)
        return 1
    except (SourceFormatError, schema.ValidationError) as exc:
        print(f"{args.source}: unexpected answer, nothing changed: {exc}", file=sys.stderr)
        return 2
    print(f"{source.name}: {rows} rows into '{source.layer}' from {args.url or source.default_url} ({source.licence})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    store = open_store(args.db)

    if args.command == "demo":
        from loaders import demo as demo_data

        t0 = time.perf_counter()
        counts = demo_data.write_demo(store, seed=args.seed, n_incidents=args.incidents, n_shifts=args.shifts)
        took = time.perf_counter() - t0
        summary = ", ".join(f"{layer} {n}" for layer, n in counts.items())
        print(f"Demo data written to {store.location} in {took:.1f} s: {summary}")
        return 0

    if args.command == "fetch":
        return _fetch(store, args)

    defaults = {"unit": args.unit, "mode": args.patrol_mode} if args.layer == "patrols" else None
    try:
        summary = import_file(store, args.layer, args.file, mode=args.mode or "replace", licence=args.licence, defaults=defaults)
    except ImportFailed as exc:
        print("Import failed, nothing was stored:", file=sys.stderr)
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        return 2
    print(summary.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
