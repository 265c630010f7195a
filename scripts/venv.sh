#!/usr/bin/env bash
# Creates (or refreshes) .venv with the Python tools the tests use, and prints
# its bin directory. Idempotent: reinstalls only when requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${RISKGRID_VENV:-.venv}"
req=scripts/requirements-test.txt
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
cd "$venv/bin" && pwd
