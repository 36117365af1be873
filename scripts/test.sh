#!/usr/bin/env bash
# Run the whole test suite from a clean clone: sets up what it needs first
# (idempotent; see scripts/bootstrap.sh), then runs pytest on two workers.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the quick subset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-example
export PYOMO_CONFIG_DIR="$PWD/.venv/pyomo"
exec .venv/bin/python -m pytest -n 2 --durations=15 "$@"
