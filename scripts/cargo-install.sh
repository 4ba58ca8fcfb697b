# shellcheck shell=bash
# cargo-install.sh: cargo_install CRATE VERSION, the one way the scripts install a cargo tool
# (cargo-deny, cargo-mutants, cargo-semver-checks, gungraun-runner, oha). Sourced, not run.
#
# Each tool is pinned to the version its script is written for, built with `--locked`, and
# built for a short build rather than the fastest binary: without link-time optimisation and in
# sixteen codegen units, which overrides the release profiles of cargo-deny and
# cargo-semver-checks (fat LTO in one codegen unit, a long single-threaded link on a 2-core
# machine). The tools run for seconds; the build is what a fresh CI machine waits for. They all
# build in one target directory, target/tools, so that a dependency two tools lock at the same
# version and features is compiled once.

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

# cargo_install CRATE VERSION: installs CRATE at VERSION into cargo's bin directory.
cargo_install() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  printf 'installing %s %s (minutes on a fresh machine; log: target/tools/%s.log)\n' "$1" "$2" "$1"
  mkdir -p "$root/target/tools"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR="$root/target/tools" \
    cargo install "$1" --version "$2" --locked >"$root/target/tools/$1.log" 2>&1 || {
    tail -n 20 "$root/target/tools/$1.log" >&2
    printf 'cargo install %s %s failed (log: target/tools/%s.log)\n' "$1" "$2" "$1" >&2
    return 1
  }
}
