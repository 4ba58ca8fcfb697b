#!/usr/bin/env bash
# check-scripts.sh: checks the workspace's scripts: every shell script (scripts/*.sh and
# .ci/run) passes shellcheck and embeds no block of another language longer than 3 lines (a
# here-document, or a quoted program such as `python3 -c '...'`: such code goes in a file of its
# own beside the script), every Python file compiles, every JavaScript module parses.
#
# Usage: scripts/check-scripts.sh
#
# The blocks are found in the syntax tree shfmt parses each script into (embedded_blocks.py);
# a block's size is its lines that are not blank. Installs Debian's shellcheck and shfmt when
# missing. Exits 1 naming each file (and line) at fault, 2 on an argument. Needs bash, git,
# python3, node; root (apt-get) when shellcheck or shfmt is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MAX_EMBEDDED_LINES=3
# Blocks known to be over the limit, as FILE:LINE, each failing the check once it is gone so
# that the list only shrinks (none).
KNOWN_BLOCKS=()

# tracked PATTERN...: the files that match, tracked by git or new and not ignored, one a line,
# from the workspace's root (the working directory).
tracked() { git ls-files --cached --others --exclude-standard -- "$@"; }

require_linters() {
  local missing=() tool
  for tool in shellcheck shfmt; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# check_shell: shellcheck, following the sourced files beside each script.
check_shell() {
  heading "shellcheck"
  local scripts
  mapfile -t scripts < <(tracked '*.sh' .ci/run)
  shellcheck --external-sources --source-path=SCRIPTDIR "${scripts[@]}" || return 1
  pass "shellcheck: ${#scripts[@]} scripts"
}

# blocks_over_limit SCRIPT: a line "SCRIPT:LINE: ..." for each block of SCRIPT over
# MAX_EMBEDDED_LINES, or one saying shfmt cannot parse it.
blocks_over_limit() {
  local tree
  if ! tree=$(shfmt --to-json <"$1" 2>&1); then
    printf '%s:1: shfmt cannot parse it: %s\n' "$1" "${tree//$'\n'/ }"
    return
  fi
  "$PYTHON" "$SCRIPTS/embedded_blocks.py" "$1" "$MAX_EMBEDDED_LINES" <<<"$tree" || true
}

# check_embedded: no block over MAX_EMBEDDED_LINES, but the known ones.
check_embedded() {
  heading "embedded blocks of more than $MAX_EMBEDDED_LINES lines"
  local script found=() block known
  while read -r script; do
    mapfile -t -O "${#found[@]}" found < <(blocks_over_limit "$script")
  done < <(tracked '*.sh' .ci/run)
  local status=0
  for block in "${found[@]}"; do
    if [[ " ${KNOWN_BLOCKS[*]} " == *" ${block%%: *} "* ]]; then
      say "known: $block"
    else
      say "$block: put it in a file of its own beside the script"
      status=1
    fi
  done
  for known in "${KNOWN_BLOCKS[@]}"; do
    [[ " ${found[*]%%: *} " == *" $known "* ]] ||
      { say "$known is no longer over the limit: take it out of KNOWN_BLOCKS" && status=1; }
  done
  ((status == 0)) && pass "no other block over $MAX_EMBEDDED_LINES lines"
  return "$status"
}

# check_code: every Python file compiles (its cache kept in WORK), every .mjs parses.
check_code() {
  heading "Python and JavaScript"
  local python javascript file
  mapfile -t python < <(tracked '*.py')
  mapfile -t javascript < <(tracked '*.mjs')
  PYTHONPYCACHEPREFIX=$WORK/pycache "$PYTHON" -m py_compile "${python[@]}" || return 1
  for file in "${javascript[@]}"; do
    node --check "$file" || return 1
  done
  pass "${#python[@]} Python files compile, ${#javascript[@]} JavaScript modules parse"
}

main() {
  no_arguments "$@"
  require_tools git python3 node
  resolve_python
  setup_workdir
  cd "$ROOT"
  require_linters
  local failed=()
  check_shell || failed+=(shellcheck)
  check_embedded || failed+=("embedded blocks")
  check_code || failed+=("Python or JavaScript")
  CONTEXT='the verdict'
  if ((${#failed[@]} > 0)); then
    local list
    list=$(printf '%s, ' "${failed[@]}")
    die "failed: ${list%, } (see above)"
  fi
  printf '\n%sscripts checked%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
