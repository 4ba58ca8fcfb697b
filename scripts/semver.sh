#!/usr/bin/env bash
# semver.sh: checks that the breaker crate's public API only grows: cargo-semver-checks
# (installed when missing) compares it with the API at a baseline git revision, as a minor
# release, so that anything removed or changed incompatibly fails and additions pass.
#
#   scripts/semver.sh            against HEAD~1 (the commit before the latest)
#   scripts/semver.sh REV        against any git revision: a tag, a branch, a commit
#
# Exits non-zero, listing each incompatible change, when there is one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

die() {
  printf 'semver.sh: %s\n' "$*" >&2
  exit 1
}

ensure_cargo_semver_checks() {
  if command -v cargo-semver-checks >/dev/null; then
    return
  fi
  printf 'installing cargo-semver-checks (a few minutes)\n'
  cargo install cargo-semver-checks --locked
}

main() {
  [[ $# -le 1 ]] || die "usage: $0 [BASELINE_REV]"
  local baseline=${1:-HEAD~1}
  git rev-parse --verify --quiet "$baseline^{commit}" >/dev/null ||
    die "no such git revision: $baseline"
  ensure_cargo_semver_checks
  cargo semver-checks check-release --package trip-breaker --baseline-rev "$baseline" \
    --release-type minor
}

main "$@"
