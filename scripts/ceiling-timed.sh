# shellcheck shell=bash
# ceiling-timed.sh: ceiling.sh's timed table: rounds of `oha -z S -c 50` against each target in
# turn, each target's CPU time read from /proc around each run, then the table of medians and
# the ratios (built by ceiling_report.py beside this file). Sourced by ceiling.sh after
# ceiling-targets.sh, not run; ceiling.sh's header says what the table shows.
#
# oha_run and oha_summary serve the flame graph too (ceiling-flamegraph.sh), which is taken
# under the same load.

# Globals set here are read by ceiling.sh (parse_flags) and ceiling-flamegraph.sh.
# shellcheck disable=SC2034

CONCURRENCY=50
ROUNDS=3
SECONDS_PER_RUN=6
WARMUP_SECONDS=1

# oha_run SECONDS URL OUT: oha for SECONDS at CONCURRENCY against URL, its JSON in OUT.
oha_run() {
  timeout $(($1 + 30)) oha -z "${1}s" -c "$CONCURRENCY" --no-tui "${OHA_JSON[@]}" "$2" >"$3" ||
    die "oha failed against $2 (exit $?)"
}

oha_summary() {
  "$PYTHON" -c 'import json, sys; print("%.0f req/s" % json.load(open(sys.argv[1]))["summary"]["requestsPerSec"])' "$1"
}

# measure_timed: the warm-up, every round, then the table; fails when a run answered anything
# but 200 or a figure is missing.
measure_timed() {
  warm_up
  run_rounds
  CONTEXT='the results'
  report || die "a run failed or produced no figure (see above)"
  printf '\n%sceiling measured%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

warm_up() {
  heading "warm-up (${WARMUP_SECONDS}s each)"
  local name
  for name in "${TARGET_NAMES[@]}"; do
    oha_run "$WARMUP_SECONDS" "${TARGET_URL[$name]}" "$WORK/warmup-$name.json"
    say "${TARGET_LABEL[$name]}: warm"
  done
}

run_rounds() {
  local round name
  for ((round = 1; round <= ROUNDS; round++)); do
    heading "round $round of $ROUNDS (oha -z ${SECONDS_PER_RUN}s -c $CONCURRENCY each)"
    for name in "${TARGET_NAMES[@]}"; do
      measure "$round" "$name"
    done
  done
}

# measure ROUND NAME: one run; leaves oha's JSON and "ticks load1" in $WORK/ROUND-NAME.*.
measure() {
  local round=$1 name=$2 pids before after load
  mapfile -t pids < <(target_pids "$name")
  before=$(cpu_ticks "${pids[@]}")
  oha_run "$SECONDS_PER_RUN" "${TARGET_URL[$name]}" "$WORK/$round-$name.json"
  after=$(cpu_ticks "${pids[@]}")
  read -r load _ </proc/loadavg
  printf '%d %s\n' $((after - before)) "$load" >"$WORK/$round-$name.cpu"
  say "round $round, ${TARGET_LABEL[$name]}: $(oha_summary "$WORK/$round-$name.json"), load $load"
}

# report: the table and the ratios (ceiling_report.py); returns 1 when a run answered anything
# but 200 or a figure is missing.
report() {
  heading "results: median over $ROUNDS round(s) of ${SECONDS_PER_RUN}s, [min - max]"
  "$PYTHON" "$SCRIPTS/ceiling_report.py" "$WORK" "$ROUNDS" "$(getconf CLK_TCK)" "$(nproc)" \
    "$(labelled_targets)"
}
