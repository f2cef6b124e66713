#!/usr/bin/env bash
# Creates tools/peers/.venv and installs the pinned peer solvers (requirements.txt).
# Idempotent: an existing venv is reused and pip skips what is already at the pinned version.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# Only install when the pinned set is not already satisfied (keeps re-runs fast and offline-safe).
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c 'import ortools, pyvrp' 2>/dev/null; then
    echo "peers: $venv is up to date"
    exit 0
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$here/requirements.txt"
echo "$want" > "$stamp"
"$venv/bin/python" -c 'import importlib.metadata as m; print("peers: ortools", m.version("ortools"), "pyvrp", m.version("pyvrp"))'
