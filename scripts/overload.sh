#!/usr/bin/env bash
# overload.sh: what each way of protecting service B keeps of it when B does not fail but slows
# down to a quarter of its capacity, under an open-loop load (a fixed arrival rate, which a slow
# server cannot slow down).
#
# Usage: scripts/overload.sh [--short] [--plot FILE.png]
#
# Service B runs in capacity mode: 8 calls at once, each taking 20 ms, 500 more waiting in order
# (so a full queue waits about 5 s at the degraded pace, past A's 3 s request timeout), then 503
# at once. First the script measures what B serves a second, normally and with 80 ms calls
# (a quarter); the load is then twice the degraded figure: about half of B's normal capacity,
# twice its degraded one. Each row gets fresh services and the same load through service A's
# GET /call: a warm-up with B normal (8 s), B degraded (20 s), B normal again (15 s):
#   no protection               --no-breaker
#   article                     the article profile (3 failures in a row open the circuit)
#   production                  --profile production
#   adaptive throttle           --profile adaptive --max-concurrent none
#   adaptive concurrency limit  --profile adaptive --adaptive-throttle none
#   both                        --profile adaptive
#   both, beside a fail=true    --profile adaptive, while a second loadgen sends 1 GET
#     trickle                   /call?fail=true a second throughout (B holds each for its
#                               500 ms --fail-delay, in a slot, then answers 500)
#   Envoy's filters             --no-breaker, calling B through Envoy with its admission-control
#                               and adaptive-concurrency filters (deploy/envoy/overload.yaml)
# Every row also has --max-connections-per-client 0 (the load comes from one address). A row
# whose flags this build of service A does not accept is skipped, with a line saying so.
#
# For each row: goodput while degraded (answers 2xx of the calls due in its first 15 s, as a
# share of B's degraded capacity; a call due later may be answered by the recovered B), p50 and
# p99 of those successful calls, the calls wasted on B (answered 503 by its full queue, or served
# after A had given up on them), the seconds after B recovers until goodput is full again (95 %
# of the rate answered 2xx, three seconds running), and A's CPU (from /proc, as a share of one
# core over the row). docs/experiments.md#overload says more on each.
# Prints the table (markdown; built by scripts/overload_report.py) and draws goodput over time for
# every row into a PNG (goodput-plot; default target/overload/overload.png).
#
#   --short      phases of 2, 5 and 3 s, for CI: checks the figures and the plot are produced,
#                not their values
#   --plot FILE  where to write the PNG
#
# Exits 1 if a row produced no figures, the load generator fell behind its schedule, or (not
# with --short) a row with the adaptive limit that ran kept less than 90 % of B's degraded
# capacity (the trickle row: within 10 points of the adaptive profile's goodput without it),
# or did not beat the article's goodput and the no-protection row's p99, or the
# throttle alone did not beat the article's goodput and waste less of B than no protection; 2
# on a bad flag. Installs Envoy under target/mesh/ (as mesh.sh) and Debian's fonts-dejavu-core
# when missing. Needs bash, cargo, curl, python3, timeout.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=envoy.sh
source "$(dirname "${BASH_SOURCE[0]}")/envoy.sh"

# B's capacity mode, normal and degraded: the same slots and queue, each call four times longer.
CONCURRENCY=8
QUEUE=500
NORMAL_TIME=20ms
DEGRADED_TIME=80ms
# Phase lengths in seconds: long enough for the adaptive rows' windows (10 s) to fill before B
# degrades, and for the article's 10 s recovery timeout to run out once within the tail. The
# figures while degraded are those of the calls due in its first DEGRADED - SETTLE seconds: a
# call due later may still be answered by the recovered B (SETTLE is the longest a call through
# A may take: production's 5 s deadline).
WARM=8
DEGRADED=20
SETTLE=5
TAIL=15
# Calls of the closed-loop runs that measure B's capacity, twice its slots in flight.
CALIBRATION_CALLS=(1000 300)
# loadgen's cap on calls in flight; at the rate here A's 3 s timeout keeps them under 700.
IN_FLIGHT=1000
# A generator this far behind its schedule no longer makes the load it says.
MAX_LAG_MS=500
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PLOT=$ROOT/target/overload/overload.png
SHORT=0

# The rows: name, label, and service A's flags ("envoy" puts Envoy between A and B).
ROWS=(none article production throttle limit both trickle envoy)
declare -A LABEL FLAGS
LABEL=([none]='no protection' [article]='article' [production]='production'
  [throttle]='adaptive throttle' [limit]='adaptive concurrency limit' [both]='both (adaptive profile)'
  [trickle]='both, beside a fail=true trickle' [envoy]="Envoy's filters")
FLAGS=([none]='--no-breaker' [article]='' [production]='--profile production'
  [throttle]='--profile adaptive --max-concurrent none'
  [limit]='--profile adaptive --adaptive-throttle none'
  [both]='--profile adaptive' [trickle]='--profile adaptive' [envoy]='--no-breaker')
# The trickle row's slow failures: how many a second, and B's delay before each one's 500 (it
# holds one of B's slots meanwhile, so a longer one would take B's capacity, not test A).
TRICKLE_RATE=1
TRICKLE_DELAY=500ms

parse_flags() {
  while (($#)); do
    case $1 in
      --short) SHORT=1 WARM=2 DEGRADED=5 SETTLE=2 TAIL=3 CALIBRATION_CALLS=(400 100) ;;
      --plot)
        [[ -n ${2-} ]] || usage_error "--plot needs a file name"
        PLOT=$(realpath -m -- "$2")
        shift
        ;;
      -h | --help) usage && exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
}

# capacity_mode SERVICE_TIME: B's mode body.
capacity_mode() {
  printf '{"mode":"capacity","concurrency":%d,"service_time":"%s","queue":%d}' \
    "$CONCURRENCY" "$1" "$QUEUE"
}

# ---- tools ----------------------------------------------------------------------------------

# require_font: the font goodput-plot draws its text with, from Debian's fonts-dejavu-core.
require_font() {
  [[ -f $FONT ]] || apt_install fonts-dejavu-core
  [[ -f $FONT ]] || die "fonts-dejavu-core installed no $FONT"
}

validate_envoy_config() {
  heading "Envoy"
  install_python_tools
  say "envoy: $("$ENVOY" --version | grep -oE '[0-9a-f]{40}/[0-9.]+/[A-Za-z]+/[A-Z]+' || true)"
  render_envoy "$ROOT/deploy/envoy/overload.yaml" "$WORK/validate.yaml" 127.0.0.1:5001
  "$ENVOY" --mode validate --disable-hot-restart -l error -c "$WORK/validate.yaml" >/dev/null ||
    die "envoy --mode validate refused deploy/envoy/overload.yaml"
  pass "envoy --mode validate: deploy/envoy/overload.yaml"
}

# ---- B's capacity ----------------------------------------------------------------------------

# calibrate: what B serves a second with all its slots busy, normally and degraded, measured
# (timer rounding makes it a little less than slots / service time). Sets NORMAL_CAPACITY,
# DEGRADED_CAPACITY (one decimal) and RATE, twice the degraded capacity.
calibrate() {
  heading "B's capacity, measured with every slot busy"
  start_service service-b "$WORK/calibrate.service-b.log" "$BIN_DIR/service-b"
  B_URL=http://$STARTED_ADDR
  wait_healthy service-b "$B_URL/health"
  set_b_mode "$B_URL" "$(capacity_mode "$NORMAL_TIME")"
  NORMAL_CAPACITY=$(served_a_second normal "${CALIBRATION_CALLS[0]}")
  set_b_mode "$B_URL" "$(capacity_mode "$DEGRADED_TIME")"
  DEGRADED_CAPACITY=$(served_a_second degraded "${CALIBRATION_CALLS[1]}")
  stop_services
  RATE=$("$PYTHON" -c 'import sys; print(round(2 * float(sys.argv[1])))' "$DEGRADED_CAPACITY")
  say "B serves $NORMAL_CAPACITY calls a second normally ($CONCURRENCY x $NORMAL_TIME), $DEGRADED_CAPACITY degraded ($CONCURRENCY x $DEGRADED_TIME)"
  say "the load: $RATE calls a second, twice the degraded capacity"
  "$PYTHON" -c 'import sys; sys.exit(not int(sys.argv[1]) < 0.9 * float(sys.argv[2]))' \
    "$RATE" "$NORMAL_CAPACITY" ||
    die "the load ($RATE/s) is not well below B's normal capacity ($NORMAL_CAPACITY/s): no row could recover"
}

# served_a_second NAME CALLS: CALLS straight to B's /api, twice its slots at a time; prints the
# calls answered 200 a second.
served_a_second() {
  run_load "calibrate-$1" "$B_URL/api" "$2" $((2 * CONCURRENCY)) >&2
  local ok seconds
  ok=$(json_count "$LOAD_JSON" statuses.200)
  seconds=$(json_count "$LOAD_JSON" seconds)
  ((ok == $2)) || die "B answered $ok of $2 calls with 200 while measuring its capacity: $LOAD_JSON"
  "$PYTHON" -c 'import sys; print(f"{int(sys.argv[1]) / float(sys.argv[2]):.1f}")' "$ok" "$seconds"
}

# ---- one row ---------------------------------------------------------------------------------

# accepts_flags FLAG...: whether this build of service A parses FLAGs (clap checks every flag
# and value before it acts on --version). Sets REFUSAL to its first error line when not.
accepts_flags() {
  local out
  if out=$("$BIN_DIR/service-a" "$@" --version 2>&1); then
    return 0
  fi
  REFUSAL=$(grep -m1 -i 'error' <<<"$out" || head -n1 <<<"$out")
  return 1
}

# run_row NAME: fresh B (and Envoy for the Envoy row) and A, the four phases of load (warm-up, degraded, settling, after); keeps
# loadgen's JSON of each phase, B's /stats and the CPU figures in $WORK/NAME.*.
run_row() {
  local name=$1 flags
  read -ra flags <<<"${FLAGS[$name]}"
  heading "${LABEL[$name]}"
  if ! accepts_flags "${flags[@]}"; then
    say "skipped: this service A does not accept ${FLAGS[$name]}: $REFUSAL"
    printf '%s\n' "$REFUSAL" >"$WORK/$name.skipped"
    return
  fi
  start_service service-b "$WORK/$name.service-b.log" "$BIN_DIR/service-b" \
    --fail-delay "$TRICKLE_DELAY"
  B_URL=http://$STARTED_ADDR
  wait_healthy service-b "$B_URL/health"
  set_b_mode "$B_URL" "$(capacity_mode "$NORMAL_TIME")"
  local upstream=$B_URL cpu_pids=()
  if [[ $name == envoy ]]; then
    start_envoy "$name" "$ROOT/deploy/envoy/overload.yaml" "${B_URL#http://}"
    upstream=$ENVOY_URL
    cpu_pids+=("${SERVICE_PIDS[-1]}")
  fi
  # Every call comes from loadgen on 127.0.0.1, and at a phase's end two runs overlap: A's
  # per-client share of connections (a tenth of its 10,000) would close theirs, which is not
  # what this measures.
  start_service service-a "$WORK/$name.service-a.log" "$BIN_DIR/service-a" \
    --service-b-url "$upstream" --max-connections-per-client 0 "${flags[@]}"
  A_URL=http://$STARTED_ADDR
  cpu_pids=("${SERVICE_PIDS[-1]}" "${cpu_pids[@]}")
  wait_healthy service-a "$A_URL/health"
  say "service A flags: ${FLAGS[$name]:-(none: the article profile)}${ENVOY_URL:+, B behind Envoy}"

  local start before=() pid
  for pid in "${cpu_pids[@]}"; do before+=("$(cpu_ticks "$pid")"); done
  start=${EPOCHREALTIME/./}
  printf "%s\$ loadgen --url '%s' --rate %s --concurrency %s --duration, one run a phase%s\n" \
    "$C_CYAN" "$A_URL/call" "$RATE" "$IN_FLIGHT" "$C_RESET"
  [[ $name == trickle ]] && start_trickle "$name"
  local phase seconds offset=0
  for phase in warm degraded settle tail; do
    seconds=$(phase_seconds "$phase")
    wait_until "$start" "$offset"
    load_phase "$name" "$phase" "$seconds"
    case $phase in
      warm) say "t=${offset}s: warm-up, B's calls take $NORMAL_TIME" ;;
      degraded)
        set_b_mode "$B_URL" "$(capacity_mode "$DEGRADED_TIME")"
        say "t=${offset}s: B degraded, its calls take $DEGRADED_TIME"
        ;;
      settle) say "t=${offset}s: B still degraded; calls due from now on are not measured" ;;
      tail)
        set_b_mode "$B_URL" "$(capacity_mode "$NORMAL_TIME")"
        say "t=${offset}s: B recovered, its calls take $NORMAL_TIME"
        ;;
    esac
    offset=$((offset + seconds))
  done
  wait_phases "$name"
  if [[ $name == trickle ]]; then
    json_read "$(<"$WORK/$name.fail-trickle.json")" requests statuses
    say "the trickle: ${JSON_VALUES[0]} fail=true calls, answered ${JSON_VALUES[1]}"
  fi

  local i after=()
  for i in "${!cpu_pids[@]}"; do after+=($(($(cpu_ticks "${cpu_pids[i]}") - before[i]))); done
  printf '%s\n' "${after[@]}" >"$WORK/$name.cpu"
  b_stats "$B_URL"
  printf '%s\n' "$B_STATS" >"$WORK/$name.b.json"
  if [[ $name == envoy ]]; then
    fetch GET "$ENVOY_ADMIN/stats?filter=admission_control.rq_rejected%7Cgradient_controller.rq_blocked"
    say "Envoy: $(tr '\n' ' ' <<<"$BODY")"
  fi
  ENVOY_URL=''
  stop_services
}

# phase_seconds PHASE: how long PHASE (warm, degraded, settle, tail) lasts.
phase_seconds() {
  case $1 in
    warm) printf '%d\n' "$WARM" ;;
    degraded) printf '%d\n' $((DEGRADED - SETTLE)) ;;
    settle) printf '%d\n' "$SETTLE" ;;
    tail) printf '%d\n' "$TAIL" ;;
  esac
}

# load_phase NAME PHASE SECONDS: loadgen in the background for SECONDS at RATE against A, its
# JSON in $WORK/NAME.PHASE.json; stopped with the services if the script ends first.
load_phase() {
  local name=$1 phase=$2 seconds=$3
  timeout $((seconds + 30)) "$BIN_DIR/loadgen" --url "$A_URL/call" --rate "$RATE" \
    --duration "${seconds}s" --concurrency "$IN_FLIGHT" --timeout 10s \
    >"$WORK/$name.$phase.json" 2>"$WORK/$name.$phase.log" &
  SERVICE_PIDS+=("$!") SERVICE_NAMES+=("loadgen ($phase)") SERVICE_LOGS+=("$WORK/$name.$phase.log")
  LOAD_PIDS+=("$!")
}

# start_trickle NAME: loadgen in the background for the whole row, TRICKLE_RATE GET
# /call?fail=true a second, its JSON in $WORK/NAME.fail-trickle.json (the report reads only
# the phases' files).
start_trickle() {
  local seconds=$((WARM + DEGRADED + TAIL))
  say "\$ loadgen --url '$A_URL/call?fail=true' --rate $TRICKLE_RATE --duration ${seconds}s &"
  timeout $((seconds + 30)) "$BIN_DIR/loadgen" --url "$A_URL/call?fail=true" \
    --rate "$TRICKLE_RATE" --duration "${seconds}s" --concurrency 100 --timeout 10s \
    >"$WORK/$1.fail-trickle.json" 2>"$WORK/$1.fail-trickle.log" &
  SERVICE_PIDS+=("$!") SERVICE_NAMES+=("loadgen (trickle)") SERVICE_LOGS+=("$WORK/$1.fail-trickle.log")
  LOAD_PIDS+=("$!")
}

# wait_phases NAME: waits for the row's four loadgen runs; dies if one failed.
wait_phases() {
  local pid
  for pid in "${LOAD_PIDS[@]}"; do
    wait "$pid" || die "loadgen failed or ran over its time (exit $?; see $WORK/$1.*.log)"
  done
  LOAD_PIDS=()
}

# wait_until START_US SECONDS: sleeps until SECONDS after START_US (microseconds, from
# EPOCHREALTIME), if that is not past.
wait_until() {
  local now=${EPOCHREALTIME/./} target=$(($1 + $2 * 1000000))
  ((target > now)) || return 0
  sleep "$(((target - now) / 1000000)).$(printf '%06d' $(((target - now) % 1000000)))"
}

# ---- the results -----------------------------------------------------------------------------

# report: the table, the plot's spec in $WORK/plot.json and the verdict, built by
# overload_report.py from the rows' files in $WORK; returns 1 when the experiment did not show
# what it should.
report() {
  heading "results"
  "$PYTHON" "$SCRIPTS/overload_report.py" "$WORK" "$SHORT" "$WARM" "$DEGRADED" "$SETTLE" \
    "$TAIL" "$RATE" "$DEGRADED_CAPACITY" "$NORMAL_CAPACITY" "$(getconf CLK_TCK)" "$MAX_LAG_MS" \
    "$CONCURRENCY" "$DEGRADED_TIME" "$(row_labels)"
}

# row_labels: "name|label" a line, in the order of ROWS.
row_labels() {
  local name
  for name in "${ROWS[@]}"; do printf '%s|%s\n' "$name" "${LABEL[$name]}"; done
}

draw_plot() {
  heading "plot"
  mkdir -p "$(dirname "$PLOT")"
  "$BIN_DIR/goodput-plot" --spec "$WORK/plot.json" --font "$FONT" --out "$PLOT" ||
    die "goodput-plot could not draw $PLOT"
  [[ -s $PLOT && $(head -c 8 "$PLOT" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
    die "$PLOT is not a PNG"
  pass "goodput over time: $PLOT ($(wc -c <"$PLOT") bytes)"
}

main() {
  parse_flags "$@"
  require_tools cargo curl python3 timeout getconf od realpath
  resolve_python
  setup_workdir
  LOAD_PIDS=()
  ENVOY_URL=''
  require_font
  validate_envoy_config
  build_binaries loadgen goodput-plot
  calibrate
  local name
  for name in "${ROWS[@]}"; do
    run_row "$name"
  done
  CONTEXT='the results'
  local verdict=0
  report || verdict=$?
  draw_plot
  CONTEXT='the verdict'
  ((verdict == 0)) || die "the experiment did not show what it should (see above)"
  printf '\n%soverload measured%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
