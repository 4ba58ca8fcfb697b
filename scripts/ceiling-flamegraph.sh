# shellcheck shell=bash
# ceiling-flamegraph.sh: `ceiling.sh --flamegraph FILE`: where service A (article profile) spends
# its CPU under the timed mode's load, sampled by perf and drawn by inferno (installed when
# missing). Sourced by ceiling.sh after ceiling-targets.sh and ceiling-timed.sh (whose oha_run
# puts the load on A), not run.

# Sampling rate and stack bytes copied per sample: about 40 MB for 6 s.
PERF_HZ=499
PERF_STACK_BYTES=8192

# require_flamegraph_tools: perf, able to record here, and inferno's two commands.
require_flamegraph_tools() {
  command -v perf >/dev/null || die "perf is not installed (Debian: apt-get install linux-perf)"
  perf record -q -o "$WORK/perf-check.data" -- true >/dev/null 2>&1 ||
    die "perf cannot record here (kernel.perf_event_paranoid: $(</proc/sys/kernel/perf_event_paranoid))"
  cargo_tool inferno-flamegraph inferno 0.12.8
}

# flamegraph: perf samples service A (article) for SECONDS_PER_RUN under oha's load, inferno
# folds and draws them into FLAMEGRAPH.
flamegraph() {
  heading "flame graph of service A (article) under oha -c $CONCURRENCY"
  local pid=${TARGET_PID[a-article]} url=${TARGET_URL[a-article]}
  oha_run "$WARMUP_SECONDS" "$url" "$WORK/warmup.json"
  perf record -q -F "$PERF_HZ" --call-graph "dwarf,$PERF_STACK_BYTES" -p "$pid" \
    -o "$WORK/perf.data" -- sleep "$SECONDS_PER_RUN" >"$WORK/perf.log" 2>&1 &
  local perf_pid=$!
  oha_run "$SECONDS_PER_RUN" "$url" "$WORK/flamegraph-load.json"
  wait "$perf_pid" || die "perf record failed (see $WORK/perf.log)"
  say "under load: $(oha_summary "$WORK/flamegraph-load.json")"
  perf script -i "$WORK/perf.data" 2>/dev/null | inferno-collapse-perf >"$WORK/folded" ||
    die "perf script | inferno-collapse-perf failed"
  [[ -s $WORK/folded ]] || die "perf recorded no samples of service A"
  inferno-flamegraph --title "service A (article profile), GET /call under oha -c $CONCURRENCY" \
    <"$WORK/folded" >"$FLAMEGRAPH" || die "inferno-flamegraph failed"
  pass "flame graph in $FLAMEGRAPH ($(wc -l <"$WORK/folded") distinct stacks)"
}
