#!/usr/bin/env bash
# ceiling.sh: what a proxied call costs service A, side by side with nginx and with the least a
# Rust proxy can do (proxy-floor) in front of the same service B: requests per second, p50/p99
# latency and each proxy's own CPU time per request.
#
# Usage: scripts/ceiling.sh [--short] [--rounds N] [--seconds S] [--bin-dir DIR]
#        scripts/ceiling.sh --flamegraph FILE.svg [--seconds S] [--bin-dir DIR]
#        scripts/ceiling.sh --instructions [--short] [--requests N] [--keep-profiles DIR]
#                           [--bin-dir DIR]
#
# One healthy service B, and five proxies in front of it, all on loopback:
#   A article      service A with its defaults:            GET /call
#   A production   --profile production --max-concurrent 64 (a bulkhead wider than the load)
#   nginx          Debian's nginx (installed when missing), from ceiling-nginx.conf: proxy_pass
#                  to an upstream keepalive pool, as many workers as A has runtime threads
#   floor reqwest  proxy-floor --client reqwest: a bare hyper server and one reqwest client
#                  built as A builds its own, answering in A's shape: GET /call
#   floor hyper    proxy-floor --client hyper: the same with hyper's own client connections
# and B alone, what B costs by itself. The two floors separate what the HTTP stack costs from
# what A adds to it (proxy-floor's crate docs). Each round runs `oha -z S -c 50` against each
# target in turn (B's /api, A's /call, nginx's /api, the floors' /call), so that a change in the
# machine's load hits every target alike; a one-second warm-up of each comes first. CPU per
# request is the user + system time the target's processes (nginx: its workers; never B's, nor
# oha's) used during the run, read from /proc/PID/stat, divided by the requests answered 200.
#
# Prints each target's median over the rounds with its range, the load average during the
# runs, and ratios (each round's ratio, median over rounds): A/nginx beside the goals, A at
# least 0.9x nginx's requests/s at no more than 1.5x its CPU per request, production within
# 1.3x of article's CPU per request; then each floor's CPU per request over nginx's, floor
# reqwest's requests/s over nginx's, and A article's CPU per request over floor reqwest's (what
# A adds over the least a reqwest proxy costs). The goals are printed, not enforced: on a shared
# machine they say more about the neighbours than about A.
#
#   --short        one round of 1 s per target (with --instructions: 300 requests after 100 to
#                  warm up), for CI: checks the figures are produced, not their values
#   --rounds N     rounds (default 3, 1..20)
#   --seconds S    seconds of load per run (default 6, 1..60)
#   --bin-dir DIR  measure the service-a and service-b binaries in DIR (another build, say)
#                  instead of building the workspace's; proxy-floor too when DIR holds one,
#                  else the workspace's is built
#   --flamegraph F instead of the table: a flame graph of service A (article profile) under
#                  the same load, with perf (--call-graph dwarf) and inferno (installed when
#                  missing), written to F
#   --instructions instead of the timed table: the user-space instructions per request of each
#                  target, counted by valgrind's callgrind (Debian's valgrind, installed when
#                  missing), which the machine's load does not move as it moves CPU time; the
#                  kernel's work is not counted. Each target runs alone under callgrind (nginx
#                  as one process, master_process off) for N requests 10 at a time after
#                  1,000 to warm up, sent by the workspace's loadgen (tools/loadgen); then the ratios A article / nginx, A production / A
#                  article, A article / floor reqwest, and each floor / nginx. Slow: valgrind
#                  runs the targets tens of times slower (scripts/ceiling-instructions.sh)
#   --requests N   counted requests per target (default 3000, 100..100000)
#   --keep-profiles DIR  keeps each target's callgrind profile as DIR/TARGET.callgrind (e.g.
#                  DIR/a-article.callgrind), for callgrind_annotate --inclusive=yes
#
# Exits 1 if a run answered anything but 200 or a figure is missing, 2 on a bad flag. Needs
# bash, curl, python3, cargo; root (apt-get) when nginx or valgrind is missing. Its parts, beside
# it: ceiling-targets.sh (the targets every mode starts), one file a mode (ceiling-timed.sh,
# ceiling-flamegraph.sh, ceiling-instructions.sh) and the tables' Python (ceiling_report.py,
# ceiling_instructions_report.py).
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=ceiling-targets.sh
source "$SCRIPTS/ceiling-targets.sh"
# shellcheck source=ceiling-timed.sh
source "$SCRIPTS/ceiling-timed.sh"
# shellcheck source=ceiling-flamegraph.sh
source "$SCRIPTS/ceiling-flamegraph.sh"
# shellcheck source=ceiling-instructions.sh
source "$SCRIPTS/ceiling-instructions.sh"

# The mode: the timed table unless one of these is set by a flag.
FLAMEGRAPH=''
INSTRUCTIONS=''
BIN_DIR=''

# parse_flags "$@": the mode (the timed table, --flamegraph or --instructions) and its settings;
# a flag of another mode than the one chosen is a usage error rather than ignored.
parse_flags() {
  local timed_flag='' instructions_flag=''
  while (($#)); do
    case $1 in
      --short) ROUNDS=1 SECONDS_PER_RUN=1 REQUESTS=$SHORT_REQUESTS WARMUP_REQUESTS=$SHORT_WARMUP_REQUESTS ;;
      --rounds)
        ROUNDS=$(bounded_count --rounds "${2-}" 1 20)
        timed_flag=$1
        shift
        ;;
      --seconds)
        SECONDS_PER_RUN=$(bounded_count --seconds "${2-}" 1 60)
        timed_flag=$1
        shift
        ;;
      --bin-dir)
        [[ -x ${2-}/service-a && -x ${2-}/service-b ]] ||
          usage_error "--bin-dir needs a directory holding service-a and service-b"
        BIN_DIR=$(cd "$2" && pwd)
        shift
        ;;
      --flamegraph)
        [[ -n ${2-} ]] || usage_error "--flamegraph needs a file name"
        FLAMEGRAPH=$2
        timed_flag=$1
        shift
        ;;
      --instructions) INSTRUCTIONS=yes ;;
      --requests)
        REQUESTS=$(bounded_count --requests "${2-}" 100 100000)
        instructions_flag=$1
        shift
        ;;
      --keep-profiles)
        [[ -n ${2-} ]] || usage_error "--keep-profiles needs a directory"
        KEEP_PROFILES=$2
        instructions_flag=$1
        shift
        ;;
      -h | --help) usage && exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
  if [[ -n $INSTRUCTIONS && -n $timed_flag ]]; then
    usage_error "$timed_flag does not go with --instructions"
  elif [[ -z $INSTRUCTIONS && -n $instructions_flag ]]; then
    usage_error "$instructions_flag goes with --instructions only"
  fi
}

# bounded_count FLAG VALUE MIN MAX: VALUE if it is a whole number in MIN..MAX, else a usage error.
bounded_count() {
  if ! [[ $2 =~ ^[0-9]{1,6}$ ]] || ((10#$2 < $3 || 10#$2 > $4)); then
    usage_error "$1 takes a whole number from $3 to $4, not '$2'"
  fi
  printf '%d\n' $((10#$2))
}

main() {
  parse_flags "$@"
  require_tools cargo curl python3 timeout ps getconf
  resolve_python
  setup_workdir
  [[ -n $INSTRUCTIONS ]] || require_oha
  if [[ -n $FLAMEGRAPH ]]; then
    require_flamegraph_tools
  else
    require_nginx
    [[ -z $INSTRUCTIONS ]] || require_valgrind
    # Before build_binaries, which sets BIN_DIR to the workspace's build.
    [[ -z $INSTRUCTIONS ]] || build_loadgen
    build_floor
  fi
  if [[ -z $BIN_DIR ]]; then
    build_binaries
  fi
  if [[ -n $INSTRUCTIONS ]]; then
    count_instructions
    return
  fi
  start_targets
  if [[ -n $FLAMEGRAPH ]]; then
    flamegraph
  else
    measure_timed
  fi
}

main "$@"
