#!/usr/bin/env bash
# Set up everything gatlang needs, idempotently: a virtual environment in .venv,
# the Python dependencies, Debian's AMPL solver library and Pyomo's PyNumero
# bridge so that Ipopt (from the cyipopt-wheels package) can be used through Pyomo.
# Safe to re-run: each step is skipped when its result is already there.
set -euo pipefail
RUN_EXAMPLE=1
for arg in "$@"; do
    case "$arg" in
        --no-example) RUN_EXAMPLE=0 ;;
        *) echo "usage: scripts/bootstrap.sh [--no-example]" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export PYOMO_CONFIG_DIR="$VENV/pyomo"

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

if [ ! -x "$PY" ]; then
    say "creating virtual environment in .venv"
    python3 -m venv "$VENV"
fi

stamp="$VENV/.gatlang-deps"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Python dependencies (pyproject.toml changed or first run)"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".[test,docs]"
    echo "$want" > "$stamp"
else
    say "Python dependencies up to date"
fi

# Ipopt through Pyomo: system ASL + PyNumero bridge. Failure here is not fatal:
# gatc reports which solvers it has (gatc doctor) and falls back to SCIP for NLPs.
asl_h=/usr/include/ampl-netlib-solvers/asl.h
if [ ! -f "$asl_h" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing libamplsolver-dev (Debian) for the Ipopt bridge"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libamplsolver-dev >/dev/null) \
            || say "WARNING: could not install libamplsolver-dev; Ipopt will be unavailable"
    else
        say "WARNING: libamplsolver-dev missing and apt-get not usable; Ipopt will be unavailable"
    fi
fi
if [ -f "$asl_h" ] && ! ls "$PYOMO_CONFIG_DIR"/lib/libpynumero_ASL* >/dev/null 2>&1; then
    say "building Pyomo's PyNumero ASL bridge into $PYOMO_CONFIG_DIR"
    "$PY" -m pyomo.contrib.pynumero.build \
        -DASL_INCLUDE_DIR=/usr/include/ampl-netlib-solvers \
        -DASL_LIBRARY=/usr/lib/x86_64-linux-gnu/libamplsolver.so >"$VENV/pynumero-build.log" 2>&1 \
        || say "WARNING: PyNumero build failed (see .venv/pynumero-build.log); Ipopt will be unavailable"
fi
say "compiling the power flow's kernels (once per machine, about a minute; cached after)"
"$PY" -m gatlang.engines.pf3_warm || say "WARNING: the kernels will compile on first use instead"
say "solvers available:"
"$VENV/bin/gatc" doctor || true
if [ "$RUN_EXAMPLE" = 1 ]; then
    say "running the flagship study: gatc run examples/case5/study.gat"
    "$VENV/bin/gatc" run examples/case5/study.gat
fi
