"""The report of scripts/bench-instructions.sh: gungraun's summaries as one table of instructions
per operation, breaker's rows beside each peer's nearest equivalent with the ratio to the best
peer, then breaker's rows checked against the committed baseline.

    bench_instructions_report.py SUMMARY BASELINE TOLERANCE_PERCENT [--update-baseline]

SUMMARY holds the JSON objects `cargo bench -- --output-format=json` printed, one per benchmark;
BASELINE maps each of breaker's benchmarks (`module::scenario`) to its instructions. Exits 1 when
one of breaker's rows is missing from the baseline or has grown by more than TOLERANCE_PERCENT
(unless --update-baseline, which rewrites the baseline from this run instead).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from markdown_table import markdown_table  # noqa: E402

# The crates, in the table's column order.
CRATES = ["breaker", "failsafe", "recloser", "wyatt breaker", "tower-resilience"]

# Each subject of breaker/benches/instructions.rs (a benchmark's id): the crate it measures and
# the entry point, as the table's rows name it. Rows of one entry point are compared with each
# other; in the time-window scenario every crate's row is compared with every other's.
MODULES = {
    "breaker_permit": ("breaker", "sync: try_acquire + permit / call(closure)"),
    "failsafe_sync": ("failsafe", "sync: try_acquire + permit / call(closure)"),
    "recloser_sync": ("recloser", "sync: try_acquire + permit / call(closure)"),
    "breaker_call": ("breaker", "async: call / call(future)"),
    "failsafe_async": ("failsafe", "async: call / call(future)"),
    "recloser_async": ("recloser", "async: call / call(future)"),
    "wyatt_breaker_call": ("wyatt breaker", "async: call / call(future)"),
    "breaker_call_with": ("breaker", "async: call_with (a classifier) / call(future)"),
    "breaker_tower": ("breaker", "tower: ready + call"),
    "wyatt_breaker_tower": ("wyatt breaker", "tower: ready + call"),
    "tower_resilience_tower": ("tower-resilience", "tower: ready + call"),
}

# The subject without a breaker: the floor.
NO_BREAKER = "no_breaker"

# The async call_with rows are compared with the peers' plain async calls, their nearest.
PEERS_OF = {
    "async: call_with (a classifier) / call(future)": "async: call / call(future)",
}

# Scenarios whose rows are all compared with each other, whatever their entry points: few
# crates have a time window at all.
ANY_ENTRY_POINT = {"time_window_success"}

SCENARIOS = [
    "closed_success",
    "closed_failure",
    "open_rejection",
    "half_open_probe",
    "time_window_success",
    "throttle_admission",
    "limit_acquire_release",
]


def instructions(summary):
    """The instructions callgrind counted in one benchmark's summary (this run's: `new`)."""
    for profile in summary["profiles"]:
        if profile["tool"] == "Callgrind":
            return int(profile["data"]["total"]["metrics"]["Ir"]["values"]["new"])
    raise ValueError("no callgrind profile in " + summary["module_path"])


def read_summaries(path):
    """Every benchmark's instructions, by `module::scenario`."""
    counts = {}
    decoder = json.JSONDecoder()
    with open(path) as f:
        text = f.read()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return counts
        summary, position = decoder.raw_decode(text, position)
        # `instructions::breaker_and_peers::<scenario>`, with the subject as the id.
        scenario = summary["module_path"].split("::")[-1]
        counts[summary["id"] + "::" + scenario] = instructions(summary)


def table(counts, floor):
    """The rows: one per scenario and entry point, a column per crate, and breaker's ratio to
    the best peer of the same entry point, as counted and less `floor` (the benchmark's own
    call and the work, which every row includes)."""
    rows = []
    for scenario in SCENARIOS:
        by_entry = {}
        for key, count in counts.items():
            module, name = key.split("::")
            if module == NO_BREAKER:
                continue
            if name != scenario:
                continue
            crate, entry = MODULES[module]
            if scenario in ANY_ENTRY_POINT:
                entry = "any: each crate's time window"
            by_entry.setdefault(entry, {})[crate] = count
        for entry, cells in by_entry.items():
            if "breaker" not in cells:
                continue
            peers = by_entry.get(PEERS_OF.get(entry, entry), {})
            best = min((n for crate, n in peers.items() if crate != "breaker"), default=None)
            row = [scenario, entry] + [format_count(cells.get(crate)) for crate in CRATES]
            if best:
                row.append("%.2f" % (cells["breaker"] / best))
                row.append("%.2f" % ((cells["breaker"] - floor) / (best - floor)))
            else:
                row += ["no peer", "no peer"]
            rows.append(row)
    return rows


def format_count(count):
    return "{:,}".format(count) if count is not None else ""


def breaker_rows(counts):
    """breaker's rows and the floor's, the ones the baseline keeps."""
    return {key: n for key, n in counts.items()
            if key.split("::")[0] == NO_BREAKER or MODULES[key.split("::")[0]][0] == "breaker"}


def check(counts, baseline, tolerance):
    """The lines saying which of breaker's rows moved; true when none grew past the tolerance."""
    ok = True
    ours = breaker_rows(counts)
    for key, count in sorted(ours.items()):
        before = baseline.get(key)
        if before is None:
            print("  %s: %d instructions, not in the baseline" % (key, count))
            ok = False
            continue
        change = 100.0 * (count - before) / before
        if change > tolerance:
            print("  %s: %d instructions, %+.1f %% over the baseline's %d" % (key, count, change, before))
            ok = False
        elif change < -tolerance:
            print("  %s: %d instructions, %+.1f %% under the baseline's %d (--update-baseline keeps it)"
                  % (key, count, change, before))
    for key in sorted(set(baseline) - set(ours)):
        print("  %s: in the baseline, not measured" % key)
        ok = False
    return ok


def main():
    summary_path, baseline_path, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
    update = sys.argv[4:] == ["--update-baseline"]
    counts = read_summaries(summary_path)
    if not counts:
        print("no benchmark summary in %s" % summary_path)
        return 1
    floor = counts.get(NO_BREAKER + "::closed_success")
    if floor is None:
        print("no %s::closed_success benchmark: no floor" % NO_BREAKER)
        return 1
    print("\nInstructions per operation, counted by callgrind; the ratios are breaker's count over")
    print("the lowest peer's with the same entry point, as counted and less the floor (the")
    print("benchmark's own call and the work with no breaker: %d instructions).\n" % floor)
    header = (["scenario", "entry point: breaker / peers"] + CRATES
              + ["breaker / best peer", "less the floor"])
    print(markdown_table(header, table(counts, floor), right_aligned=True))
    if update:
        ours = breaker_rows(counts)
        with open(baseline_path, "w") as f:
            json.dump(dict(sorted(ours.items())), f, indent=2)
            f.write("\n")
        print("\nbaseline rewritten: %s (%d rows)" % (baseline_path, len(ours)))
        return 0
    baseline = {}
    if os.path.exists(baseline_path):
        with open(baseline_path) as f:
            baseline = json.load(f)
    print("\nbreaker's rows against %s (at most %+.0f %%):" % (baseline_path, tolerance))
    if check(counts, baseline, tolerance):
        print("  every row within the tolerance")
        return 0
    print("a breaker path grew or is missing: find why, or run scripts/bench-instructions.sh "
          "--update-baseline and say why in the commit")
    return 1


if __name__ == "__main__":
    sys.exit(main())
