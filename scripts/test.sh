#!/usr/bin/env bash
# Install (first time) and run the whole test suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's chromium package: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
