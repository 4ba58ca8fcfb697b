#!/usr/bin/env bash
# load.sh: the article's load experiment, with oha: Service A with and without its breaker,
# first while B fails every call, then while B is healthy, side by side.
#
# Usage: scripts/load.sh
#
# Four runs, each against freshly started services so that each begins Closed:
#   failing B:  oha -n 100   -c 20 http://A/call?fail=true    A with the breaker | --no-breaker
#   healthy B:  oha -n 20000 -c 50 http://A/call              A with the breaker | --no-breaker
# B fails after the article's 2 s; A runs with its defaults (3 failures, 10 s, 3 s timeout).
# The table shows total time, requests/s, p50/p95/p99, status codes and how many calls reached
# B (its /stats before and after). Exits 2 if oha is missing, 1 if the breaker did not keep
# calls away from a failing B or a healthy run saw errors. Needs bash, curl, python3 and oha.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# No run may last longer than this (the slowest, failing without a breaker, takes ~10 s).
OHA_MAX_SECONDS=300
# Per request: longer than A's 3 s timeout, so every request gets A's own answer.
OHA_REQUEST_TIMEOUT=30s
FAIL_DELAY=2s

require_oha() {
  if ! command -v oha >/dev/null; then
    say "oha is not installed: cargo install oha --locked"
    exit 2
  fi
  # oha 1.x prints JSON with -j; newer releases replaced it with --output-format json.
  if oha --help | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
  else
    OHA_JSON=(-j)
  fi
}

# run_case NAME LABEL PATH REQUESTS CONCURRENCY [A_FLAG...]: one oha run against fresh services.
# Leaves oha's JSON in $WORK/NAME.json and B's /api count before/after in $WORK/NAME.calls.
run_case() {
  local name=$1 label=$2 path=$3 requests=$4 concurrency=$5
  shift 5
  heading "$label"
  start_service service-b "$WORK/$name.service-b.log" "$BIN_DIR/service-b" --fail-delay "$FAIL_DELAY"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  start_service service-a "$WORK/$name.service-a.log" "$BIN_DIR/service-a" --service-b-url "$b" "$@"
  local a=http://$STARTED_ADDR
  wait_healthy service-a "$a/health"

  b_api_calls "$b"
  local before=$API_CALLS
  local cmd=(oha -n "$requests" -c "$concurrency" --no-tui -t "$OHA_REQUEST_TIMEOUT" "${OHA_JSON[@]}" "$a$path")
  printf "%s\$ %s '%s'%s\n" "$C_CYAN" "${cmd[*]:0:${#cmd[@]}-1}" "${cmd[-1]}" "$C_RESET"
  timeout "$OHA_MAX_SECONDS" "${cmd[@]}" >"$WORK/$name.json" ||
    die "oha failed or ran over ${OHA_MAX_SECONDS}s (exit $?)"
  b_api_calls "$b"
  printf '%s %s\n' "$before" "$API_CALLS" >"$WORK/$name.calls"
  say "calls that reached B: $((API_CALLS - before))"
  stop_services
}

# report: the table, then the checks that the experiment showed what it should.
report() {
  heading "results (fresh services for every column; B fails after $FAIL_DELAY; A defaults)"
  "$PYTHON" - "$WORK" <<'PY'
import json, os, sys

work = sys.argv[1]
columns = [
    ("fail-breaker", "failing: breaker"),
    ("fail-none", "failing: no breaker"),
    ("ok-breaker", "healthy: breaker"),
    ("ok-none", "healthy: no breaker"),
]

def load(name):
    with open(os.path.join(work, name + ".json")) as f:
        doc = json.load(f)
    with open(os.path.join(work, name + ".calls")) as f:
        before, after = map(int, f.read().split())
    return doc, after - before

def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"

def codes(doc):
    dist = doc.get("statusCodeDistribution") or {}
    parts = [f"{code}: {n}" for code, n in sorted(dist.items())]
    errors = sum((doc.get("errorDistribution") or {}).values())
    if errors:
        parts.append(f"errors: {errors}")
    return ", ".join(parts) or "-"

runs = {name: load(name) for name, _ in columns}
rows = [
    ("total time", lambda d, c: f"{d['summary']['total']:.2f} s"),
    ("requests/s", lambda d, c: f"{d['summary']['requestsPerSec']:.1f}"),
    ("p50", lambda d, c: ms(d["latencyPercentiles"].get("p50"))),
    ("p95", lambda d, c: ms(d["latencyPercentiles"].get("p95"))),
    ("p99", lambda d, c: ms(d["latencyPercentiles"].get("p99"))),
    ("status codes", lambda d, c: codes(d)),
    ("calls that reached B", lambda d, c: str(c)),
]
width = max(20, *(len(codes(doc)) for doc, _ in runs.values())) + 2
print(f"{'':22}" + "".join(f"{title:>{width}}" for _, title in columns))
for label, cell in rows:
    print(f"{label:22}" + "".join(f"{cell(*runs[name]):>{width}}" for name, _ in columns))

# The checks: the breaker kept calls away from a failing B; healthy runs were all 200s.
problems = []
with_breaker, without = runs["fail-breaker"][1], runs["fail-none"][1]
if with_breaker >= without:
    problems.append(f"with the breaker {with_breaker} calls reached a failing B, without it {without}")
for name in ("ok-breaker", "ok-none"):
    doc = runs[name][0]
    if set((doc.get("statusCodeDistribution") or {})) != {"200"} or doc.get("errorDistribution"):
        problems.append(f"{name}: not every healthy call answered 200 ({codes(doc)})")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

main() {
  (($# == 0)) || {
    printf 'load.sh takes no arguments\n\n' >&2
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
  }
  require_oha
  require_tools cargo curl python3 timeout
  resolve_python
  setup_workdir
  build_binaries
  run_case fail-breaker "failing B, A with the breaker" '/call?fail=true' 100 20
  run_case fail-none "failing B, A without a breaker" '/call?fail=true' 100 20 --no-breaker
  run_case ok-breaker "healthy B, A with the breaker" /call 20000 50
  run_case ok-none "healthy B, A without a breaker" /call 20000 50 --no-breaker
  CONTEXT='the results'
  report || die "the experiment did not show what the article describes (see above)"
  printf '\n%sload experiment done%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
