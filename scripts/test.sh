#!/usr/bin/env bash
# Runs every test riskgrid has, from a clean clone. Installs what the tests need.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Reuse a target directory outside the checkout when CI provides one (warm builds).
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target-cache ]; then
  export CARGO_TARGET_DIR=/work/target-cache
fi

# Python tools the tests drive (moto_server for the EKS/EC2 adapter, checkov for
# deploy/) live in .venv; tests find them on PATH and, with
# RISKGRID_REQUIRE_TOOLS=1, fail rather than skip when one is missing.
venv_bin="$(scripts/venv.sh)"
export PATH="$venv_bin:$PATH"
export RISKGRID_REQUIRE_TOOLS=1

# Incremental artifacts only help edit-compile loops; in CI they cost gigabytes.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Unit, property, oracle, reproducibility and end-to-end tests. The CLI tests
# also check every file in examples/ and run the README's demo job.
cargo test --workspace --all-targets
