#!/usr/bin/env bash
# Install (first time) and start the app. Without data it creates the demo dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
.venv/bin/python -m dashboard.users first-admin
exec .venv/bin/streamlit run dashboard/app.py "$@"
