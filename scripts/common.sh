# shellcheck shell=bash
# common.sh: helpers shared by demo.sh, load.sh and the experiments. Sourced, not run.
#
# What it gives the scripts:
#   * messages (say, heading, pass, die) with colour only when stdout is a terminal;
#   * a work directory for logs and bodies, and an EXIT trap that stops every service started
#     here (by pid, SIGTERM then SIGKILL after a bounded wait), Ctrl-C and SIGTERM included;
#   * tools installed when missing: apt_install (Debian's), cargo_tool, require_oha,
#     require_redis;
#   * build_binaries, target_dir, start_service (on 127.0.0.1:0, reading the bound address from
#     the log), stop_services, wait_healthy;
#   * fetch (one curl call: STATUS, MILLIS, BODY), fetch_ok (a 200 or die) and json_read,
#     json_count (json_path.py);
#   * cpu_ticks, the CPU time processes used so far, from /proc;
#   * usage, which prints the sourcing script's header comment, usage_error and no_arguments;
#   * for the experiments: experiment_start (options, tools, work directory, binaries),
#     load_case (fresh B and A, one load run, B's stats), save_row and row_field (one case's
#     figures, for the table and the verdict), and below them start_b_and_a, set_b_mode,
#     b_stats, run_load (our loadgen binary).
#
# Why python3 and not jq for JSON: jq is a separate package that a fresh machine may lack, while
# python3 (with its json module) is on every machine these scripts target, CI images included.
# It costs ~20 ms a call, which no timing assertion here measures (curl times the requests).

# Globals set here are read by the sourcing script (STATUS, BODY, JSON_VALUES, BIN_DIR, A_URL,
# B_URL, C_*).
# shellcheck disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The scripts and the Python beside them.
SCRIPTS=$ROOT/scripts
# shellcheck source=scripts/cargo-install.sh
source "$SCRIPTS/cargo-install.sh"

# printf's %f reads and writes a decimal point whatever the user's locale.
LC_NUMERIC=C

# Every curl call is bounded; the longest legitimate answer is B's fail delay (2 s) + slack.
CURL_MAX_SECONDS=15
# How long a service may take to log its address and answer /health.
STARTUP_SECONDS=20
# How long a stopping service may take to finish its requests in flight before SIGKILL.
STOP_SECONDS=5

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
  C_BOLD=$'\e[1m' C_DIM=$'\e[2m' C_GREEN=$'\e[32m' C_RED=$'\e[31m' C_CYAN=$'\e[36m' C_RESET=$'\e[0m'
else
  C_BOLD='' C_DIM='' C_GREEN='' C_RED='' C_CYAN='' C_RESET=''
fi

# The step being run, named by die().
CONTEXT='start-up'
# Pids and names of the services started by start_service, stopped by stop_services.
SERVICE_PIDS=()
SERVICE_NAMES=()
SERVICE_LOGS=()

say() { printf '%s\n' "$*"; }
heading() {
  CONTEXT=$1
  printf '\n%s== %s%s\n' "$C_BOLD" "$1" "$C_RESET"
}
pass() { printf '%s✔ %s%s\n' "$C_GREEN" "$*" "$C_RESET"; }

# die MESSAGE: names the step that misbehaved, shows the end of each service log, exits 1.
die() {
  printf '\n%sFAILED in %s: %s%s\n' "$C_RED" "$CONTEXT" "$*" "$C_RESET" >&2
  local i
  for i in "${!SERVICE_LOGS[@]}"; do
    if [[ -s ${SERVICE_LOGS[i]} ]]; then
      printf '%s--- last lines of %s (%s)%s\n' "$C_DIM" "${SERVICE_NAMES[i]}" "${SERVICE_LOGS[i]}" "$C_RESET" >&2
      tail -n 15 "${SERVICE_LOGS[i]}" >&2
    fi
  done
  exit 1
}

# apt_install PACKAGE...: installs Debian packages as root, waiting for another apt-get's lock
# rather than failing, and updating the package lists once if the first try fails; its output
# goes to $WORK/apt.log.
apt_install() {
  ((EUID == 0)) || die "$* not installed; run: apt-get install $* (as root)"
  say "\$ apt-get install -y --no-install-recommends $*"
  local apt=(apt-get -qq -o DPkg::Lock::Timeout=120)
  "${apt[@]}" install -y --no-install-recommends "$@" >"$WORK/apt.log" 2>&1 || {
    say "installing failed; updating the package lists first"
    "${apt[@]}" update >>"$WORK/apt.log" 2>&1 &&
      "${apt[@]}" install -y --no-install-recommends "$@" >>"$WORK/apt.log" 2>&1
  } || die "apt-get could not install $* (see $WORK/apt.log)"
}

# cargo_tool COMMAND CRATE VERSION [--release]: installs CRATE at VERSION (cargo-install.sh)
# when COMMAND is missing, and puts cargo's bin directory on the PATH.
cargo_tool() {
  command -v "$1" >/dev/null && return
  local bin=${CARGO_HOME:-$HOME/.cargo}/bin
  if [[ ! -x $bin/$1 ]]; then
    cargo_install "$2" "$3" "${4:-}" || die "cargo install $2 $3 failed"
  fi
  PATH=$bin:$PATH
}

# require_oha: oha, installed when missing; sets OHA_JSON to the flags that make it print JSON.
require_oha() {
  heading "oha"
  cargo_tool oha oha 1.16.0 --release
  # oha 1.x prints JSON with -j; newer releases replaced it with --output-format json.
  if oha --help | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
  else
    OHA_JSON=(-j)
  fi
  say "$(oha --version)"
}

# require_redis: Debian's redis-server and redis-cli, installed when missing.
require_redis() {
  heading "redis-server"
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server
  fi
  say "$(redis-server --version)"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is required but not installed"
  done
}

# resolve_python: the real interpreter behind python3, into PYTHON. Version-manager shims
# (pyenv) cost ~300 ms a call; the interpreter itself ~20 ms, which keeps the short --fast
# recovery timeout from running out while the script reads JSON.
resolve_python() {
  PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
}

# setup_workdir: makes $WORK and installs the traps. The EXIT trap runs on every exit path;
# INT, TERM and HUP turn into exits so that it runs for them too.
setup_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/circuit-breaker.XXXXXX")
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM HUP
  stop_services
  if ((status == 0)); then
    rm -rf "$WORK"
  else
    printf '%slogs kept in %s%s\n' "$C_DIM" "$WORK" "$C_RESET" >&2
  fi
  exit "$status"
}

# build_binaries [PACKAGE...]: release build of both services, and of PACKAGEs; sets BIN_DIR.
build_binaries() {
  local packages=(-p service-a -p service-b) package
  for package in "$@"; do
    packages+=(-p "$package")
  done
  heading "build"
  say "\$ cargo build --release ${packages[*]}"
  (cd "$ROOT" && cargo build --release "${packages[@]}") || die "cargo build failed"
  BIN_DIR=$(target_dir)/release
}

# target_dir: cargo's target directory for the workspace (CARGO_TARGET_DIR, say, or target/).
target_dir() {
  (cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') ||
    die "cannot find cargo's target directory"
}

# start_service NAME LOG COMMAND...: runs COMMAND --listen 127.0.0.1:0, so the kernel picks a
# free port and no other process can take it between choosing and binding; the port is read back
# from the service's "listening ... address=127.0.0.1:PORT" log line. Sets STARTED_ADDR.
# A service that exits while starting (a failed bind, say) is started once more.
start_service() {
  local name=$1 log=$2
  shift 2
  launch_service "$name" "$log" "$@"
  if ! await_address "$name" "$log"; then
    say "$name exited while starting: $(tail -n 1 "$log"); starting it once more"
    forget_last_service
    launch_service "$name" "$log" "$@"
    await_address "$name" "$log" || die "$name exited while starting, twice (see its log below)"
  fi
  case $STARTED_ADDR in
    127.0.0.1:*) ;;
    *) die "$name listens on $STARTED_ADDR, not on loopback" ;;
  esac
}

# launch_service NAME LOG COMMAND...: starts the service in the background and records it.
launch_service() {
  local name=$1 log=$2
  shift 2
  launch_process "$name" "$log" "$@" --listen 127.0.0.1:0
}

# launch_process NAME LOG COMMAND...: runs COMMAND in the background, its output in LOG, and
# records it, so that stop_services and the EXIT trap stop it like the services.
launch_process() {
  local name=$1 log=$2
  shift 2
  : >"$log" # exists before the first look for the address
  "$@" >"$log" 2>&1 &
  SERVICE_PIDS+=("$!")
  SERVICE_NAMES+=("$name")
  SERVICE_LOGS+=("$log")
}

# forget_last_service: drops the record of the service launched last, which has exited.
forget_last_service() {
  wait "${SERVICE_PIDS[-1]}" 2>/dev/null || true
  unset 'SERVICE_PIDS[-1]' 'SERVICE_NAMES[-1]' 'SERVICE_LOGS[-1]'
}

# await_address NAME LOG: waits for the address of the service launched last, into
# STARTED_ADDR. Returns 1 if the process exited first; dies after STARTUP_SECONDS.
await_address() {
  local name=$1 log=$2 pid=${SERVICE_PIDS[-1]} deadline=$((SECONDS + STARTUP_SECONDS))
  STARTED_ADDR=''
  until [[ -n $STARTED_ADDR ]]; do
    STARTED_ADDR=$(listening_address "$log")
    [[ -n $STARTED_ADDR ]] && break
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || die "$name logged no 'listening ... address=' line within ${STARTUP_SECONDS}s"
    sleep 0.1
  done
}

# listening_address LOG: the address from the first "listening" line, ANSI colours removed;
# the line is text (address=127.0.0.1:PORT) or, with --log-format json, "address":"127.0.0.1:PORT".
listening_address() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -i -m1 'listening' |
    grep -oE 'address"?[=:]"?[0-9.]+:[0-9]+' | head -n1 | grep -oE '[0-9.]+:[0-9]+$' || true
}

# wait_healthy NAME URL: polls URL until it answers 200, for at most STARTUP_SECONDS.
wait_healthy() {
  local name=$1 url=$2 deadline=$((SECONDS + STARTUP_SECONDS))
  until curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || die "$name did not answer $url within ${STARTUP_SECONDS}s"
    sleep 0.1
  done
}

# stop_services: SIGTERM to each service started here, SIGKILL to any still running after
# STOP_SECONDS (graceful shutdown waits for requests in flight, e.g. B's 2 s delay).
stop_services() {
  local pid deadline
  for pid in "${SERVICE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVICE_PIDS[@]}"; do
    deadline=$((SECONDS + STOP_SECONDS))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVICE_PIDS=() SERVICE_NAMES=() SERVICE_LOGS=()
}

# fetch METHOD URL: one bounded request. Sets STATUS, MILLIS and BODY.
fetch() {
  local method=$1 url=$2 out
  out=$(curl -sS -o "$WORK/body" -w '%{http_code} %{time_total}' --max-time "$CURL_MAX_SECONDS" \
    -X "$method" "$url") || die "curl could not complete $method $url"
  STATUS=${out%% *}
  MILLIS=$(seconds_to_ms "${out##* }")
  BODY=$(<"$WORK/body")
}

# fetch_ok WHO URL: fetch GET URL, dying with what WHO (e.g. "A's /breaker") answered unless it
# is a 200.
fetch_ok() {
  fetch GET "$2"
  [[ $STATUS == 200 ]] || die "$1 answered HTTP $STATUS: $BODY"
}

# b_api_calls B_URL: how many /api calls have reached Service B so far, into API_CALLS.
b_api_calls() {
  fetch_ok "B's /stats" "$1/stats"
  json_read "$BODY" api_calls
  API_CALLS=${JSON_VALUES[0]}
}

# seconds_to_ms 0.003456: curl's time_total in whole milliseconds, in bash arithmetic.
seconds_to_ms() {
  local t=${1/,/.} whole frac
  whole=${t%%.*}
  frac=0
  [[ $t == *.* ]] && frac=${t#*.}
  frac=${frac}000
  printf '%d\n' $((10#$whole * 1000 + 10#${frac:0:3}))
}

# json_read JSON PATH...: sets the array JSON_VALUES to the value at each dotted PATH
# ("calls.rejected"). Strings come out raw, everything else as JSON (null, true, 3, {...}).
json_read() {
  local json=$1 out
  shift
  out=$("$PYTHON" "$SCRIPTS/json_path.py" "$@" <<<"$json") || die "cannot read ${*} from: $json"
  mapfile -t JSON_VALUES <<<"$out"
}

# cpu_ticks PID...: user + system clock ticks the processes used so far, all their threads.
cpu_ticks() {
  local pid total=0 stat fields
  for pid in "$@"; do
    stat=$(<"/proc/$pid/stat") || die "process $pid is gone"
    # Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  printf '%d\n' "$total"
}

# ---- for the experiments ----------------------------------------------------------------------

# No load run may last longer than this; each experiment's runs take a few seconds.
LOAD_MAX_SECONDS=60

# post_json URL JSON: one bounded POST with a JSON body. Sets STATUS and BODY.
post_json() {
  local url=$1 json=$2 out
  out=$(curl -sS -o "$WORK/body" -w '%{http_code}' --max-time "$CURL_MAX_SECONDS" \
    -H 'content-type: application/json' -d "$json" "$url") || die "curl could not POST $url"
  STATUS=$out
  BODY=$(<"$WORK/body")
}

# usage: the sourcing script's header comment, from its second line to `set -euo pipefail`.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# usage_error MESSAGE: the script's name and MESSAGE, then its usage, on stderr; exits 2.
usage_error() {
  printf '%s: %s\n\n' "${0##*/}" "$1" >&2
  usage >&2
  exit 2
}

# no_arguments "$@": for a script that takes none: --help prints its usage, anything else is a
# usage error.
no_arguments() {
  (($# == 0)) && return
  [[ $1 == -h || $1 == --help ]] && usage && exit 0
  usage_error "unknown argument: $1"
}

# start_b_and_a NAME B_MODE A_FLAG...: fresh services for one case of an experiment: B set to
# B_MODE (a `POST /mode` body), then A calling it with the A_FLAGs. Sets B_URL and A_URL.
start_b_and_a() {
  local name=$1 mode=$2
  shift 2
  start_service service-b "$WORK/$name.service-b.log" "$BIN_DIR/service-b"
  B_URL=http://$STARTED_ADDR
  wait_healthy service-b "$B_URL/health"
  set_b_mode "$B_URL" "$mode"
  start_service service-a "$WORK/$name.service-a.log" "$BIN_DIR/service-a" \
    --service-b-url "$B_URL" "$@"
  A_URL=http://$STARTED_ADDR
  wait_healthy service-a "$A_URL/health"
  say "service A flags: ${*:-(none: the article profile)}"
}

# set_b_mode B_URL JSON: puts Service B in the mode JSON describes, e.g. {"mode":"slow","delay":"2s"}.
set_b_mode() {
  post_json "$1/mode" "$2"
  [[ $STATUS == 200 ]] || die "B refused the mode $2: HTTP $STATUS $BODY"
}

# b_stats B_URL: Service B's /stats, into B_STATS.
b_stats() {
  fetch_ok "B's /stats" "$1/stats"
  B_STATS=$BODY
}

# run_load NAME URL REQUESTS CONCURRENCY: REQUESTS GETs of URL, CONCURRENCY at a time, with the
# workspace's loadgen (built by build_binaries loadgen); its JSON summary goes to
# $WORK/NAME.load.json and LOAD_JSON.
run_load() {
  local name=$1 url=$2 requests=$3 concurrency=$4
  printf "%s\$ loadgen --url '%s' --requests %s --concurrency %s%s\n" \
    "$C_CYAN" "$url" "$requests" "$concurrency" "$C_RESET"
  timeout "$LOAD_MAX_SECONDS" "$BIN_DIR/loadgen" --url "$url" --requests "$requests" \
    --concurrency "$concurrency" >"$WORK/$name.load.json" ||
    die "loadgen failed or ran over ${LOAD_MAX_SECONDS}s (exit $?)"
  LOAD_JSON=$(<"$WORK/$name.load.json")
}

# json_count JSON PATH: the number at the dotted PATH, or 0 when there is none (a status that
# never occurred has no key in loadgen's summary).
json_count() {
  "$PYTHON" "$SCRIPTS/json_path.py" --count "$2" <<<"$1" || die "cannot read $2 from: $1"
}

# percent PART WHOLE: PART as a percentage of WHOLE, one decimal.
percent() {
  "$PYTHON" -c 'import sys; p, w = map(float, sys.argv[1:]); print(f"{100 * p / w:.1f}")' "$1" "$2"
}

# experiment_start "$@": what every experiment does first: --help, no other option, the tools it
# needs, a work directory, the services and loadgen built.
experiment_start() {
  no_arguments "$@"
  require_tools cargo curl python3 timeout
  resolve_python
  setup_workdir
  build_binaries loadgen
}

# load_case NAME LABEL B_MODE REQUESTS CONCURRENCY A_FLAG...: one case of an experiment: fresh
# services (B in B_MODE, A with the A_FLAGs), REQUESTS calls of A's /call, CONCURRENCY at a time.
# Sets A_URL, B_URL, LOAD_JSON and, after the load, B_STATS; the services run until
# stop_services.
load_case() {
  local name=$1 label=$2 mode=$3 requests=$4 concurrency=$5
  shift 5
  heading "$label"
  start_b_and_a "$name" "$mode" "$@"
  run_load "$name" "$A_URL/call" "$requests" "$concurrency"
  b_stats "$B_URL"
}

# save_row NAME FIELD...: one case's figures, `|`-separated, in $WORK/NAME.row.
save_row() {
  local name=$1
  shift
  local IFS='|'
  printf '%s\n' "$*" >"$WORK/$name.row"
}

# row_field NAME N: the N-th field (from 1) that save_row kept for NAME.
row_field() {
  local -a fields
  IFS='|' read -r -a fields <"$WORK/$1.row"
  printf '%s\n' "${fields[$2 - 1]}"
}
