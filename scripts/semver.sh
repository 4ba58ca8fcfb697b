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
# shellcheck source=scripts/cargo-install.sh
source scripts/cargo-install.sh

die() {
  printf 'semver.sh: %s\n' "$*" >&2
  exit 1
}

# The version these checks are written for.
SEMVER_CHECKS_VERSION=0.51.0

# The breaker's package name; the folder is breaker/ whatever it is.
PACKAGE=trip-breaker

# package_name REV: the breaker's package name at git revision REV.
package_name() {
  git show "$1:breaker/Cargo.toml" | sed -n 's/^name = "\(.*\)"$/\1/p' | head -n 1
}

# renamed_baseline REV DIR: REV's source in DIR with the breaker's package under today's name,
# so that an API published under the old name is compared with today's under the new one.
renamed_baseline() {
  git worktree add --quiet --detach "$2" "$1"
  sed -i "s/^name = \"$(package_name "$1")\"$/name = \"$PACKAGE\"/" "$2/breaker/Cargo.toml"
  sed -i "s/package = \"$(package_name "$1")\", path = \"breaker\"/package = \"$PACKAGE\", path = \"breaker\"/" "$2/Cargo.toml"
}

main() {
  [[ $# -le 1 ]] || die "usage: $0 [BASELINE_REV]"
  local baseline=${1:-HEAD~1}
  git rev-parse --verify --quiet "$baseline^{commit}" >/dev/null ||
    die "no such git revision: $baseline"
  ensure_cargo_tool cargo-semver-checks "$SEMVER_CHECKS_VERSION" cargo semver-checks
  if [[ $(package_name "$baseline") == "$PACKAGE" ]]; then
    cargo semver-checks check-release --package "$PACKAGE" --baseline-rev "$baseline" \
      --release-type minor
    return
  fi
  BASELINE_DIR=$(mktemp -d)
  trap 'git worktree remove --force "$BASELINE_DIR"/src 2>/dev/null; rm -rf "$BASELINE_DIR"' EXIT
  printf 'the package was %s at %s: compared under its name today, %s\n' \
    "$(package_name "$baseline")" "$baseline" "$PACKAGE"
  renamed_baseline "$baseline" "$BASELINE_DIR/src"
  cargo semver-checks check-release --package "$PACKAGE" --baseline-root "$BASELINE_DIR/src" \
    --release-type minor
}

main "$@"
