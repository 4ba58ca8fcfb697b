#!/usr/bin/env bash
# check-layers.sh: checks that no library or binary of the workspace has an import circle
# between its own modules, with the workspace's own checker, tools/layers. Every import should
# point down, from the handles to the vocabulary; a circle means two modules can only be read
# together. The targets come from `cargo metadata`, so a new crate is checked without editing
# this file.
#
#   scripts/check-layers.sh             every library and binary of the workspace
#   scripts/check-layers.sh PACKAGE...  only those packages
#
# Exits non-zero naming each circle, with the path that makes each use in it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --quiet -p layers -- "$@"
