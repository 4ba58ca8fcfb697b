#!/usr/bin/env bash
# check-layers.sh: checks that no library and no binary of the workspace has an import circle
# between its own modules, with cargo-modules (installed when missing). Every import should
# point down, from the handles to the vocabulary; a circle means two modules can only be read
# together.
#
#   scripts/check-layers.sh             every package of the workspace, from cargo metadata
#   scripts/check-layers.sh PACKAGE...  only those
#
# Each library and binary target is checked (`cargo modules dependencies --lib` or
# `--bin NAME`), unless its root file declares no module: one module imports nothing of its own.
# A new crate is covered as soon as it is a member of the workspace. The Python (which targets,
# and the circles in cargo-modules' graph) is import_layers.py beside this script.
#
# Exits non-zero naming each target that has a circle, with the circle cargo-modules found.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The version this script is written for (its flags), and the last that builds with the
# workspace's Rust 1.95 toolchain.
MODULES_VERSION=0.27.0
LAYERS=$ROOT/scripts/import_layers.py

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
  printf 'installing cargo-modules %s (a few minutes)\n' "$MODULES_VERSION"
  cargo install cargo-modules --locked --version "$MODULES_VERSION"
}

# acyclic PACKAGE KIND NAME: true when the target (KIND lib or bin) has no import circle between
# its modules; leaves each circle in OUTPUT otherwise. cargo-modules draws the graph of `use`
# edges between the target's own modules (functions, types and traits folded into their module;
# no dependencies, no standard library); a strongly connected component of more than one module
# is a circle. (Its own `--acyclic` judges items, where any type whose method names the type is a
# circle.)
acyclic() {
  local target=(--lib)
  [[ $2 == bin ]] && target=(--bin "$3")
  RUST_LIB_BACKTRACE=0 cargo modules dependencies --package "$1" "${target[@]}" \
    --no-externs --no-sysroot --no-fns --no-traits --no-types --no-owns </dev/null >"$OUTPUT" 2>&1 ||
    return 1
  python3 "$LAYERS" circles "$OUTPUT"
}

main() {
  local targets failed=() package kind name modules
  targets=$(cargo metadata --format-version 1 --no-deps | python3 "$LAYERS" targets "$@") ||
    die "cannot list the workspace's targets"
  ensure_cargo_modules
  while read -r package kind name modules; do
    if [[ $modules == one ]]; then
      printf 'ok       %s (%s %s): one module\n' "$package" "$kind" "$name"
    elif acyclic "$package" "$kind" "$name"; then
      printf 'ok       %s (%s %s): no import circle\n' "$package" "$kind" "$name"
    else
      printf 'CIRCLE   %s (%s %s):\n' "$package" "$kind" "$name"
      grep -v '^\s*$' "$OUTPUT" | sed 's/^/           /'
      failed+=("$package ($kind $name)")
    fi
  done <<<"$targets"
  if [[ ${#failed[@]} -gt 0 ]]; then
    die "import circles in: ${failed[*]}"
  fi
}

main "$@"
