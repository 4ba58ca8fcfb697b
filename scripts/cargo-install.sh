# shellcheck shell=bash
# cargo-install.sh: cargo_install CRATE VERSION [--release], the one way the scripts install a
# cargo tool (cargo-deny, cargo-mutants, cargo-semver-checks, gungraun-runner, inferno, oha), and
# ensure_cargo_tool, which installs one only when its pinned version is missing. Sourced, not run.
#
# Each tool is pinned to the version its script is written for, built with `--locked`, and
# built for a short build rather than the fastest binary: unoptimised (`--debug`), as the tools
# run for seconds and the build is what a fresh CI machine waits for (cargo-deny 106 s against
# 204 s optimised without LTO, gungraun-runner 118 s against 185 s, on this project's 2-core
# machine; cargo-deny's check took 3 s against 2 s). A tool whose own speed is measured (oha, the
# load generator) is built with `--release`, without link-time optimisation and in sixteen
# codegen units. They all build in one target directory, target/tools, so that a dependency two
# tools lock at the same version and features is compiled once.

# ensure_cargo_tool CRATE VERSION COMMAND...: installs CRATE at VERSION unless
# `COMMAND... --version` says that version is there (`cargo deny`, say, or `gungraun-runner`).
ensure_cargo_tool() {
  local crate=$1 version=$2
  shift 2
  if "$@" --version 2>/dev/null | grep -qF "$version"; then
    return
  fi
  cargo_install "$crate" "$version"
}

# cargo_install CRATE VERSION [--release]: installs CRATE at VERSION into cargo's bin directory,
# unoptimised unless --release.
cargo_install() {
  local root profile=--debug
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  [[ ${3:-} != --release ]] || profile=--release
  printf 'installing %s %s (minutes on a fresh machine; log: target/tools/%s.log)\n' "$1" "$2" "$1"
  mkdir -p "$root/target/tools"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR="$root/target/tools" \
    cargo install "$1" --version "$2" --locked "$profile" >"$root/target/tools/$1.log" 2>&1 || {
    tail -n 20 "$root/target/tools/$1.log" >&2
    printf 'cargo install %s %s failed (log: target/tools/%s.log)\n' "$1" "$2" "$1" >&2
    return 1
  }
}
