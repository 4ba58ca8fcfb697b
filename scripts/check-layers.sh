#!/usr/bin/env bash
# check-layers.sh: checks that no library of the workspace has an import circle between its own
# modules, with cargo-modules (installed when missing). Every import should point down, from the
# handles to the vocabulary; a circle means two modules can only be read together.
#
#   scripts/check-layers.sh             every library: breaker, service-kit, service-a, service-b
#   scripts/check-layers.sh PACKAGE...  only those
#
# Exits non-zero naming each package that has a circle, with the circle cargo-modules found.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PACKAGES=(breaker service-kit service-a service-b)

OUTPUT=$(mktemp)
trap 'rm -f "$OUTPUT"' EXIT

die() {
  printf 'check-layers.sh: %s\n' "$*" >&2
  exit 1
}

ensure_cargo_modules() {
  if command -v cargo-modules >/dev/null; then
    return
  fi
  printf 'installing cargo-modules (a few minutes)\n'
  cargo install cargo-modules --locked
}

# acyclic PACKAGE: true when the library of PACKAGE has no import circle; prints the circle
# otherwise. Only modules are drawn (no functions, types or traits), and only the package's own
# (no dependencies, no standard library).
acyclic() {
  cargo modules dependencies --package "$1" --lib \
    --no-externs --no-sysroot --no-fns --no-traits --no-types --acyclic \
    >"$OUTPUT" 2>&1
}

main() {
  local packages=("$@") failed=() package
  [[ ${#packages[@]} -gt 0 ]] || packages=("${PACKAGES[@]}")
  ensure_cargo_modules
  for package in "${packages[@]}"; do
    if acyclic "$package"; then
      printf 'ok       %s: no import circle\n' "$package"
    else
      printf 'CIRCLE   %s:\n' "$package"
      grep -v '^\s*$' "$OUTPUT" | sed 's/^/           /'
      failed+=("$package")
    fi
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    die "import circles in: ${failed[*]}"
  fi
}

main "$@"
