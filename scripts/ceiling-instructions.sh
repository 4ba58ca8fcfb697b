# shellcheck shell=bash
# ceiling-instructions.sh: `ceiling.sh --instructions`, the user-space instructions each target
# runs per request, counted by valgrind's callgrind. Sourced by ceiling.sh after
# ceiling-targets.sh, not run: it starts the targets with that file's start_target and
# start_backend, and ceiling.sh's header says how to use it.
#
# Why instructions: on a shared machine the CPU time a request costs moves with the neighbours'
# load, and a virtual machine may offer no hardware counters. Callgrind executes the target on a
# synthetic CPU and counts every instruction it runs in user space, so the count does not depend
# on the load. What it leaves out: the kernel's work (system calls, the TCP stack), and any cost
# that is not an instruction count (cache misses, lock waits); valgrind also runs one thread at a
# time, so contention between the target's threads is not what it would be.
#
# Each target runs alone under callgrind beside one plain service B: started, warmed up, its
# counters zeroed, REQUESTS requests, its counters dumped, stopped. B alone is a B of its own
# under callgrind, so the B every proxy calls is never the one counted.

# Globals set here are read by ceiling.sh (parse_flags, main).
# shellcheck disable=SC2034

REQUESTS=3000
WARMUP_REQUESTS=1000
# With --short: enough requests that every target answers through its warm pool to B.
SHORT_REQUESTS=300
SHORT_WARMUP_REQUESTS=100
# loadgen's connections during the counted runs (the count per request hardly depends on it).
CALLGRIND_CONCURRENCY=10
# Valgrind translates the target's code before it runs it: start-up is slow.
CALLGRIND_STARTUP_SECONDS=60
# The longest a loadgen run may take under callgrind: a base, plus this many requests a second at
# least (a target under callgrind answers some hundreds a second on a loaded 2-core machine).
CALLGRIND_BASE_SECONDS=60
CALLGRIND_MIN_RATE=20
# How long callgrind_control may take, and callgrind to write a dump it was asked for.
CONTROL_SECONDS=10
DUMP_SECONDS=10
KEEP_PROFILES=''

# require_valgrind: Debian's valgrind (which brings callgrind_control), installed when missing.
require_valgrind() {
  heading "valgrind"
  if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
    apt_install valgrind
  fi
  say "$(valgrind --version)"
}

# build_loadgen: the workspace's load generator (build_alone), into LOADGEN_BIN; it sends the
# counted requests, so that this mode needs no oha.
build_loadgen() {
  build_alone loadgen
  LOADGEN_BIN=$BUILT_ALONE
}

# count_instructions: every target counted in turn under callgrind, then the table.
count_instructions() {
  heading "services"
  STARTUP_SECONDS=$CALLGRIND_STARTUP_SECONDS
  start_backend
  NGINX_WORKERS=1 NGINX_MASTER=off
  mkdir -p "$WORK/callgrind"
  if [[ -n $KEEP_PROFILES ]]; then
    mkdir -p "$KEEP_PROFILES" || die "cannot make the directory $KEEP_PROFILES"
  fi
  local name
  for name in "${TARGET_NAMES[@]}"; do
    count_target "$name"
  done
  CONTEXT='the results'
  instructions_report || die "a run failed or produced no figure (see above)"
  if [[ -n $KEEP_PROFILES ]]; then
    say ''
    say "callgrind's profiles are in $KEEP_PROFILES; where A's instructions go:"
    say "  callgrind_annotate --inclusive=yes $KEEP_PROFILES/a-article.callgrind | head -40"
  fi
  printf '\n%sinstructions counted%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

# count_target NAME: NAME under callgrind, warmed up, then REQUESTS counted requests; leaves
# loadgen's JSON summary in $WORK/callgrind/NAME.json and the instructions in $WORK/callgrind/NAME.ir.
count_target() {
  local name=$1 out=$WORK/callgrind/$1.callgrind
  heading "${TARGET_LABEL[$name]} under callgrind"
  start_target "$name" valgrind --tool=callgrind --callgrind-out-file="$out"
  local pid=${TARGET_PID[$name]} url=${TARGET_URL[$name]}
  load_count "$WARMUP_REQUESTS" "$url" "$WORK/callgrind/$name-warmup.json"
  callgrind_control_bounded --zero "$pid"
  load_count "$REQUESTS" "$url" "$WORK/callgrind/$name.json"
  callgrind_control_bounded --dump "$pid"
  # The first dump asked for is numbered 1; the file without a number is written at exit.
  dump_total "$out.1" >"$WORK/callgrind/$name.ir"
  [[ -z $KEEP_PROFILES ]] || cp "$out.1" "$KEEP_PROFILES/$name.callgrind" ||
    die "cannot copy $name's profile to $KEEP_PROFILES"
  stop_last_service
  say "${TARGET_LABEL[$name]}: $(<"$WORK/callgrind/$name.ir") instructions in $REQUESTS requests"
}

# callgrind_control_bounded ACTION PID: callgrind_control ACTION PID (through valgrind's
# gdbserver, vgdb, which wakes a target idle in a system call with ptrace), within
# CONTROL_SECONDS.
callgrind_control_bounded() {
  timeout "$CONTROL_SECONDS" callgrind_control "$1" "$2" >>"$WORK/callgrind/control.log" 2>&1 ||
    die "callgrind_control $1 $2 failed or ran over ${CONTROL_SECONDS}s (see $WORK/callgrind/control.log)"
}

# load_count REQUESTS URL OUT: REQUESTS GETs of URL, CALLGRIND_CONCURRENCY at a time, loadgen's
# JSON summary in OUT.
load_count() {
  local limit=$((CALLGRIND_BASE_SECONDS + $1 / CALLGRIND_MIN_RATE))
  timeout "$limit" "$LOADGEN_BIN" --url "$2" --requests "$1" --concurrency "$CALLGRIND_CONCURRENCY" >"$3" ||
    die "loadgen --requests $1 failed against $2 or ran over ${limit}s (exit $?)"
}

# dump_total FILE: the instructions counted in callgrind's dump FILE (its summary line), once
# callgrind has written it.
dump_total() {
  local deadline=$((SECONDS + DUMP_SECONDS)) total=''
  until total=$(awk '/^summary:/ { print $2; exit }' "$1" 2>/dev/null) && [[ -n $total ]]; do
    ((SECONDS < deadline)) || die "callgrind wrote no summary to $1 within ${DUMP_SECONDS}s"
    sleep 0.2
  done
  printf '%s\n' "$total"
}

# stop_last_service: stops the service started last (SIGTERM, SIGKILL after STOP_SECONDS), so
# that each target runs under callgrind alone.
stop_last_service() {
  local pid=${SERVICE_PIDS[-1]} deadline=$((SECONDS + STOP_SECONDS))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  forget_last_service
}

# instructions_report: the table and the ratios (ceiling_instructions_report.py); returns 1
# when a request was answered anything but 200 or a figure is missing.
instructions_report() {
  heading "results: user-space instructions per request, under callgrind"
  "$PYTHON" "$SCRIPTS/ceiling_instructions_report.py" "$WORK/callgrind" "$REQUESTS" \
    "$WARMUP_REQUESTS" "$CALLGRIND_CONCURRENCY" "$(labelled_targets)"
}
