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
#   nginx          Debian's nginx (installed when missing), from a generated config: proxy_pass
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
#                  as one process, master_process off) for `oha -n N -c 10` after 1,000
#                  requests to warm up; then the ratios A article / nginx, A production / A
#                  article, A article / floor reqwest, and each floor / nginx. Slow: valgrind
#                  runs the targets tens of times slower (scripts/ceiling-instructions.sh)
#   --requests N   counted requests per target (default 3000, 100..100000)
#   --keep-profiles DIR  keeps each target's callgrind profile as DIR/TARGET.callgrind (e.g.
#                  DIR/a-article.callgrind), for callgrind_annotate --inclusive=yes
#
# Exits 1 if a run answered anything but 200 or a figure is missing, 2 on a bad flag. Needs
# bash, curl, python3, cargo; root (apt-get) when nginx or valgrind is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=ceiling-instructions.sh
source "$(dirname "${BASH_SOURCE[0]}")/ceiling-instructions.sh"

CONCURRENCY=50
ROUNDS=3
SECONDS_PER_RUN=6
WARMUP_SECONDS=1
# Wider than the load, so the production profile's bulkhead refuses nothing.
PRODUCTION_BULKHEAD=64
# nginx's idle connections to B, per worker: more than the load keeps busy.
NGINX_KEEPALIVE=64
FLAMEGRAPH=''
INSTRUCTIONS=''
BIN_DIR=''
# Sampling rate and stack bytes copied per sample for the flame graph: about 40 MB for 6 s.
PERF_HZ=499
PERF_STACK_BYTES=8192

# The targets, in the order of every round; start_targets fills in each one's URL and the pid
# whose CPU counts (nginx's workers are looked up at each run).
TARGET_NAMES=(b a-article a-production nginx floor-reqwest floor-hyper)
declare -A TARGET_URL TARGET_LABEL TARGET_PID
TARGET_LABEL=([b]='B alone' [a-article]='A article' [a-production]='A production' [nginx]='nginx'
  [floor-reqwest]='floor reqwest' [floor-hyper]='floor hyper')
NGINX_PID=''

# labelled_targets: "name=label", a line per target in the order of every round, for the
# reports' Python, so that the labels are written here only.
labelled_targets() {
  local name
  for name in "${TARGET_NAMES[@]}"; do
    printf '%s=%s\n' "$name" "${TARGET_LABEL[$name]}"
  done
}

# How nginx runs: workers as many as A has runtime threads (start_targets), a master process.
NGINX_WORKERS=1
NGINX_MASTER=on

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

usage_error() {
  printf 'ceiling.sh: %s\n\n' "$1" >&2
  usage >&2
  exit 2
}

# cargo_tool COMMAND CRATE: installs CRATE with cargo when COMMAND is missing.
cargo_tool() {
  command -v "$1" >/dev/null && return
  local bin
  bin=$(cargo_bin)
  if [[ ! -x $bin/$1 ]]; then
    say "\$ cargo install $2 --locked"
    cargo install "$2" --locked >"$WORK/install-$2.log" 2>&1 ||
      die "cargo install $2 failed (see $WORK/install-$2.log)"
  fi
  PATH=$bin:$PATH
}

cargo_bin() { printf '%s/bin\n' "${CARGO_HOME:-$HOME/.cargo}"; }

# build_floor: proxy-floor from --bin-dir when DIR holds one, otherwise built from the workspace
# on its own (built with the services, cargo would unify their dependencies' features with its
# own, and the services' binaries would differ from the ones built alone); into FLOOR_BIN.
build_floor() {
  if [[ -n $BIN_DIR && -x $BIN_DIR/proxy-floor ]]; then
    FLOOR_BIN=$BIN_DIR/proxy-floor
    return
  fi
  heading "build proxy-floor"
  say "\$ cargo build --release -p proxy-floor"
  (cd "$ROOT" && cargo build --release -p proxy-floor) || die "cargo build of proxy-floor failed"
  local target
  target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') ||
    die "cannot find cargo's target directory"
  FLOOR_BIN=$target/release/proxy-floor
}

require_oha() {
  heading "oha"
  cargo_tool oha oha
  # oha 1.x prints JSON with -j; newer releases replaced it with --output-format json.
  if oha --help | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
  else
    OHA_JSON=(-j)
  fi
  say "$(oha --version)"
}

# require_nginx: Debian's nginx, installed when missing (as observe.sh installs prometheus).
require_nginx() {
  heading "nginx"
  NGINX=$(command -v nginx || true)
  [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
  if [[ -z $NGINX ]]; then
    apt_install nginx
    NGINX=/usr/sbin/nginx
  fi
  say "$("$NGINX" -v 2>&1)"
}

# ---- the services ------------------------------------------------------------------------------

start_targets() {
  heading "services"
  start_backend
  TARGET_PID[b]=$B_PID
  TARGET_URL[b]=http://$B_ADDR/api
  start_target a-article
  [[ -n $FLAMEGRAPH ]] && return
  start_target a-production
  runtime_threads "${TARGET_PID[a-article]}"
  NGINX_WORKERS=$A_THREADS
  start_target nginx
  start_target floor-reqwest
  start_target floor-hyper
}

# start_backend: the service B every proxy calls, at B_ADDR, its pid in B_PID.
start_backend() {
  start_service service-b "$WORK/service-b.log" "$BIN_DIR/service-b"
  B_ADDR=$STARTED_ADDR
  B_PID=${SERVICE_PIDS[-1]}
  wait_healthy service-b "http://$B_ADDR/health"
  say "service B on $B_ADDR"
}

# start_target NAME [WRAPPER...]: the target NAME, run by the WRAPPER command when one is given
# (valgrind, say), each proxy in front of the B at B_ADDR, B alone as a B of its own; sets
# TARGET_PID[NAME] and TARGET_URL[NAME]. The floors proxy any path; /call, as on A.
start_target() {
  local name=$1
  shift
  case $name in
    b) start_answering b /api /health "$@" "$BIN_DIR/service-b" ;;
    a-article) start_answering a-article /call /health "$@" "$BIN_DIR/service-a" \
      --service-b-url "http://$B_ADDR" ;;
    a-production) start_answering a-production /call /health "$@" "$BIN_DIR/service-a" \
      --service-b-url "http://$B_ADDR" --profile production --max-concurrent "$PRODUCTION_BULKHEAD" ;;
    nginx)
      start_nginx "$@"
      TARGET_PID[nginx]=$NGINX_PID
      ;;
    floor-reqwest | floor-hyper) start_answering "$name" /call /call "$@" "$FLOOR_BIN" \
      --service-b-url "http://$B_ADDR" --client "${name#floor-}" ;;
    *) die "no target named $name" ;;
  esac
  say "${TARGET_LABEL[$name]} on ${TARGET_URL[$name]#http://}"
}

# start_answering NAME PATH HEALTH_PATH COMMAND...: COMMAND as the target NAME, measured at PATH,
# once it answers HEALTH_PATH.
start_answering() {
  local name=$1 path=$2 health=$3
  shift 3
  start_service "$name" "$WORK/$name.log" "$@"
  TARGET_PID[$name]=${SERVICE_PIDS[-1]}
  TARGET_URL[$name]=http://$STARTED_ADDR$path
  wait_healthy "$name" "http://$STARTED_ADDR$health"
}

# runtime_threads PID: how many tokio runtime workers the process runs, into A_THREADS (tokio
# names them tokio-rt-worker; releases before 1.44 tokio-runtime-worker, cut to 15 characters).
runtime_threads() {
  local comm
  A_THREADS=0
  for comm in /proc/"$1"/task/*/comm; do
    case $(<"$comm") in
      tokio-rt-worker | tokio-runtime-w*) A_THREADS=$((A_THREADS + 1)) ;;
    esac
  done
  ((A_THREADS > 0)) || die "service A (pid $1) shows no tokio runtime worker thread"
}

# free_port: a port no one listens on now, for nginx, which cannot report a port the kernel
# chose; start_nginx tries again if another process takes it first.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_config PORT: a reverse proxy on 127.0.0.1:PORT to B with NGINX_WORKERS workers (and a
# master process unless NGINX_MASTER is off), keeping idle connections to B in a pool,
# everything it writes kept in $WORK.
nginx_config() {
  local port=$1 user=''
  # As root, nginx's master runs its workers as an unprivileged user, whose group differs by
  # system.
  ((EUID == 0)) && [[ $NGINX_MASTER == on ]] && user="user nobody $(id -gn nobody);"
  cat <<EOF
$user
worker_processes $NGINX_WORKERS;
daemon off;
master_process $NGINX_MASTER;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream service_b {
    server $B_ADDR;
    keepalive $NGINX_KEEPALIVE;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://service_b;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

# start_nginx [WRAPPER...]: nginx on a free port, run by WRAPPER when one is given, its first
# process's pid in NGINX_PID (stopped by the EXIT trap with the services).
start_nginx() {
  local port attempt
  mkdir -p "$WORK/nginx"
  for attempt in 1 2; do
    port=$(free_port)
    nginx_config "$port" >"$WORK/nginx/nginx.conf"
    "$NGINX" -t -q -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>>"$WORK/nginx/error.log" ||
      die "nginx refuses the generated config (see $WORK/nginx/error.log)"
    "$@" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >>"$WORK/nginx/out.log" 2>&1 &
    NGINX_PID=$!
    SERVICE_PIDS+=("$NGINX_PID") SERVICE_NAMES+=(nginx) SERVICE_LOGS+=("$WORK/nginx/error.log")
    if nginx_answers "$port"; then
      TARGET_URL[nginx]=http://127.0.0.1:$port/api
      say "nginx: $NGINX_WORKERS worker(s), master process $NGINX_MASTER, keepalive $NGINX_KEEPALIVE to B"
      return
    fi
    say "nginx did not start on port $port (attempt $attempt): $(tail -n 1 "$WORK/nginx/error.log")"
    forget_last_service
  done
  die "nginx did not start, twice"
}

# nginx_answers PORT: whether nginx answers B's /health through the proxy within
# STARTUP_SECONDS, while it runs.
nginx_answers() {
  local deadline=$((SECONDS + STARTUP_SECONDS))
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/health" 2>/dev/null; do
    kill -0 "$NGINX_PID" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# ---- measuring ---------------------------------------------------------------------------------

# target_pids NAME: the processes whose CPU counts for NAME: nginx's workers (the master serves
# no request), the single process otherwise.
target_pids() {
  if [[ $1 == nginx ]]; then
    local workers
    # ps right-aligns the pids: word splitting trims them.
    read -ra workers <<<"$(ps -o pid= --ppid "$NGINX_PID" | tr '\n' ' ')"
    ((${#workers[@]} > 0)) || die "nginx has no workers"
    printf '%s\n' "${workers[@]}"
  else
    printf '%s\n' "${TARGET_PID[$1]}"
  fi
}

# oha_run SECONDS URL OUT: oha for SECONDS at CONCURRENCY against URL, its JSON in OUT.
oha_run() {
  timeout $(($1 + 30)) oha -z "${1}s" -c "$CONCURRENCY" --no-tui "${OHA_JSON[@]}" "$2" >"$3" ||
    die "oha failed against $2 (exit $?)"
}

warm_up() {
  heading "warm-up (${WARMUP_SECONDS}s each)"
  local name
  for name in "${TARGET_NAMES[@]}"; do
    oha_run "$WARMUP_SECONDS" "${TARGET_URL[$name]}" "$WORK/warmup-$name.json"
    say "${TARGET_LABEL[$name]}: warm"
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

oha_summary() {
  "$PYTHON" -c 'import json, sys; print("%.0f req/s" % json.load(open(sys.argv[1]))["summary"]["requestsPerSec"])' "$1"
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

# report: the table and the ratios; fails when a run answered anything but 200 or a figure is
# missing.
report() {
  heading "results: median over $ROUNDS round(s) of ${SECONDS_PER_RUN}s, [min - max]"
  PYTHONPATH="$ROOT/scripts" "$PYTHON" - "$WORK" "$ROUNDS" "$(getconf CLK_TCK)" "$(nproc)" \
    "$(labelled_targets)" <<'PY'
import json, os, statistics, sys
from markdown_table import markdown_table

work, rounds, tick = sys.argv[1], int(sys.argv[2]), 1.0 / int(sys.argv[3])
cores = sys.argv[4]
labels = dict(line.split("=", 1) for line in sys.argv[5].splitlines())
names = list(labels)
problems = []

def run(round_, name):
    base = os.path.join(work, f"{round_}-{name}")
    with open(base + ".json") as f:
        doc = json.load(f)
    with open(base + ".cpu") as f:
        ticks, load = f.read().split()
    codes = doc.get("statusCodeDistribution") or {}
    ok = int(codes.get("200", 0))
    # -z ends the run by cutting the requests in flight: those are not the target's errors.
    errors = {k: v for k, v in (doc.get("errorDistribution") or {}).items() if "deadline" not in k}
    if set(codes) - {"200"} or errors:
        problems.append(f"round {round_}, {labels[name]}: answers other than 200: {codes} {errors}")
    seconds = doc["summary"]["total"]
    lat = doc.get("latencyPercentiles") or {}
    fig = {
        "rps": ok / seconds if seconds else 0.0,
        "p50": (lat.get("p50") or 0.0) * 1e3,
        "p99": (lat.get("p99") or 0.0) * 1e3,
        "cpu": int(ticks) * tick / ok * 1e6 if ok else 0.0,
        "load": float(load),
    }
    for key in ("rps", "p50", "p99", "cpu"):
        if not fig[key] > 0:
            problems.append(f"round {round_}, {labels[name]}: no {key} figure")
    return fig

runs = {name: [run(r, name) for r in range(1, rounds + 1)] for name in names}

def cell(name, key, fmt):
    values = [r[key] for r in runs[name]]
    mid = fmt(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} [{fmt(min(values))} - {fmt(max(values))}]"

whole = lambda v: f"{v:,.0f}"
one = lambda v: f"{v:.1f}"
two = lambda v: f"{v:.2f}"
columns = [("requests/s", "rps", whole), ("p50 ms", "p50", two), ("p99 ms", "p99", two),
           ("CPU µs/request", "cpu", one), ("load average", "load", two)]
table = [[labels[n]] + [cell(n, key, fmt) for _, key, fmt in columns] for n in names]
head = ["target"] + [title for title, _, _ in columns]
print(markdown_table(head, table))
print(f"\n{cores} cores; CPU per request is the target's own (nginx: its workers), from /proc.")

def ratio(num, den, key):
    values = [a[key] / b[key] for a, b in zip(runs[num], runs[den]) if b[key] > 0]
    return statistics.median(values) if values else float("nan")

print("\nratios, each round's then the median over rounds:")
goals = [
    ("A article / nginx, requests/s", ratio("a-article", "nginx", "rps"), ">=", 0.9),
    ("A article / nginx, CPU per request", ratio("a-article", "nginx", "cpu"), "<=", 1.5),
    ("A production / A article, CPU per request", ratio("a-production", "a-article", "cpu"), "<=", 1.3),
    ("A production / nginx, requests/s", ratio("a-production", "nginx", "rps"), None, None),
    ("A production / nginx, CPU per request", ratio("a-production", "nginx", "cpu"), None, None),
    ("floor reqwest / nginx, CPU per request", ratio("floor-reqwest", "nginx", "cpu"), None, None),
    ("floor hyper / nginx, CPU per request", ratio("floor-hyper", "nginx", "cpu"), None, None),
    ("floor reqwest / nginx, requests/s", ratio("floor-reqwest", "nginx", "rps"), None, None),
    ("A article / floor reqwest, CPU per request", ratio("a-article", "floor-reqwest", "cpu"), None, None),
]
for label, value, op, goal in goals:
    if not value > 0:
        problems.append(f"no figure for {label}")
    if op is None:
        print(f"  {label:44} {value:5.2f}x")
        continue
    met = value >= goal if op == ">=" else value <= goal
    print(f"  {label:44} {value:5.2f}x   goal {op} {goal}x: {'met' if met else 'not met'}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# ---- the flame graph ---------------------------------------------------------------------------

require_perf() {
  command -v perf >/dev/null || die "perf is not installed (Debian: apt-get install linux-perf)"
  perf record -q -o "$WORK/perf-check.data" -- true >/dev/null 2>&1 ||
    die "perf cannot record here (kernel.perf_event_paranoid: $(</proc/sys/kernel/perf_event_paranoid))"
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

main() {
  parse_flags "$@"
  require_tools cargo curl python3 timeout ps getconf
  resolve_python
  setup_workdir
  require_oha
  if [[ -n $FLAMEGRAPH ]]; then
    require_perf
    cargo_tool inferno-flamegraph inferno
  else
    require_nginx
    [[ -z $INSTRUCTIONS ]] || require_valgrind
    # Before build_binaries, which sets BIN_DIR to the workspace's build.
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
    return
  fi
  warm_up
  run_rounds
  CONTEXT='the results'
  report || die "a run failed or produced no figure (see above)"
  printf '\n%sceiling measured%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
