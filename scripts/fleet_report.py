"""fleet.sh's rows and report: the table of five replicas with and without the fleet, and the
verdict on what the fleet promises.

    fleet_report.py row failing LABEL REACHED SENT PROBES_FILE B_CALLS SAID_FLEET
                                                                          one row of "B failing"
    fleet_report.py row broken QUORUM OK_OTHERS CALLS_OTHERS STATE...    one row of "a broken path"
    fleet_report.py report WORK REPLICAS THRESHOLD RECOVERY PERIODS REQUESTS RESUME_LIMIT
                           MAX_COST_RATIO P99_FACTOR P99_SLACK_MS        the tables and verdicts

A row is one JSON object on standard output. The report reads WORK/*.row.json, the outage
phases' loadgen summaries (WORK/outage.PHASE.N.json) and the callgrind counts
(WORK/callgrind/{off,on}.{ir,json}). Under the tables it lists every promise with what the run
showed; it exits 1 when one does not hold, naming it on standard error.
"""

import glob
import json
import os
import sys

from markdown_table import markdown_table


class Promises:
    """What the fleet promises, each checked against what the run showed."""

    def __init__(self):
        self.lines = []
        self.broken = []

    def check(self, held, promise, seen):
        self.lines.append(f"- {'held' if held else 'NOT HELD'}: {promise}: {seen}")
        if not held:
            self.broken.append(f"{promise}: {seen}")

    def print(self):
        print("\n".join(self.lines))


def table_of(head, rows):
    """The markdown table of `rows`, every cell written as text."""
    return markdown_table(head, [[str(cell) for cell in row] for row in rows])


def probes(probes_file):
    """The calls that reached B after every replica rejected: (time, replica)."""
    with open(probes_file) as f:
        return [(float(at), int(replica)) for at, replica in (line.split() for line in f)]


def fleet_periods(calls, recovery):
    """The probes grouped into the fleet's recovery periods: a probe more than half a
    recovery timeout after the first of its group starts the next group."""
    groups = []
    for at, replica in calls:
        if not groups or at - groups[-1][0][0] >= recovery / 2:
            groups.append([])
        groups[-1].append((at, replica))
    return groups


def own_periods(calls, wanted):
    """Without the fleet each replica's periods run on its own clock: period k holds each
    replica's k-th probe."""
    seen = {}
    counts = [0] * wanted
    for _, replica in calls:
        seen[replica] = seen.get(replica, 0) + 1
        if seen[replica] <= wanted:
            counts[seen[replica] - 1] += 1
    return counts


def row(kind, args):
    if kind == "failing":
        label, reached, sent, probes_file, b_calls, said_fleet = args
        return {"kind": kind, "label": label, "reached": int(reached), "sent": int(sent),
                "probes_file": probes_file, "b_calls": int(b_calls),
                "said_fleet": said_fleet == "yes"}
    if kind == "broken":
        quorum, ok_others, calls_others, *states = args
        return {"kind": kind, "quorum": int(quorum), "ok_others": int(ok_others),
                "calls_others": int(calls_others), "states": states}
    sys.exit(f"no row kind {kind!r}")


def load_rows(work):
    rows = []
    for path in sorted(glob.glob(os.path.join(work, "*.row.json"))):
        with open(path) as f:
            rows.append(json.load(f))
    return rows


def failing_table(rows, replicas, threshold, recovery, wanted, promises):
    head = ["replicas of A", "calls reaching B until all reject", "expected"]
    head += [f"probes in period {n + 1}" for n in range(wanted)]
    table = []
    order = ["without the fleet", "fleet, quorum 1", "fleet, quorum 3"]
    for row in sorted((r for r in rows if r["kind"] == "failing"), key=lambda r: order.index(r["label"])):
        calls = probes(row["probes_file"])
        alone = row["label"] == "without the fleet"
        if alone:
            counts = own_periods(calls, wanted)
        else:
            counts = [len(g) for g in fleet_periods(calls, recovery)[:wanted]]
        seen_periods = len(counts)
        counts += [0] * (wanted - len(counts))
        bound = threshold + replicas
        expected = (f"{replicas} x {threshold} = {replicas * threshold}" if alone
                    else f"at most {threshold} + {replicas} = {bound}")
        table.append([f"{replicas}, {row['label']}", row["reached"], expected] + counts)
        if alone:
            promises.check(row["reached"] == replicas * threshold,
                           f"without the fleet, each replica on its own lets {threshold} calls "
                           f"reach B: {replicas} x {threshold} = {replicas * threshold}",
                           f"{row['reached']} reached B")
            promises.check(counts == [replicas] * wanted,
                           f"without the fleet, each replica sends its own probe: {replicas} a period",
                           f"{counts}")
            continue
        promises.check(row["reached"] <= bound,
                       f"{row['label']}: at most threshold + replicas = {bound} calls reach B "
                       f"before every replica rejects", f"{row['reached']} reached B")
        gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:])]
        closest = f", the closest two {min(gaps):.1f} s apart" if gaps else ""
        promises.check(counts == [1] * wanted and seen_periods >= wanted
                       and (not gaps or min(gaps) >= recovery),
                       f"{row['label']}: exactly one probe reaches B per recovery period, fleet-wide",
                       f"{counts} in periods 1 to {wanted}{closest}")
        promises.check(row["said_fleet"], f"{row['label']}: a fleet-opened replica's rejection says fleet",
                       "said" if row["said_fleet"] else "never said")
    print(table_of(head, table))
    print("\nWithout the fleet each replica's periods run on its own clock: period k counts each "
          "replica's k-th probe. With it, a probe more than half a recovery timeout after the "
          "first of a period starts the next.")


def broken_table(rows, replicas, promises):
    head = ["quorum", "replica 3 (dead port)", "the other four", "their calls answered 200"]
    table = []
    for row in sorted((r for r in rows if r["kind"] == "broken"), key=lambda r: -r["quorum"]):
        states = row["states"]
        others = [s for i, s in enumerate(states) if i != 2]
        table.append([row["quorum"], states[2], ", ".join(others),
                      f"{row['ok_others']} of {row['calls_others']}"])
        broken_open = states[2] in ("open", "half_open")
        seen = f"replica 3 {states[2]}; the others {', '.join(others)}"
        if row["quorum"] >= 2:
            promises.check(broken_open and all(s == "closed" for s in others)
                           and row["ok_others"] == row["calls_others"],
                           f"quorum {row['quorum']}: the broken-path replica opens alone, the other "
                           f"four stay closed and serve",
                           f"{seen}, {row['ok_others']} of {row['calls_others']} answered 200")
        else:
            promises.check(broken_open and all(s in ("open", "half_open") for s in others),
                           "quorum 1: one broken-path replica opens all (the trade-off)", seen)
    print(table_of(head, table))


def outage_table(work, replicas, resume_limit, factor, slack, promises):
    phases = ["usual", "stopped", "gone", "back"]
    head = ["Redis", "calls", "answered 200", "p50 ms", "p99 ms", "/breaker connected"]
    table = []
    p99 = {}
    answered = {}
    for phase in phases:
        docs = []
        for i in range(replicas):
            with open(os.path.join(work, f"outage.{phase}.{i}.json")) as f:
                docs.append(json.load(f))
        calls = sum(d["requests"] for d in docs)
        ok = sum(int(d["statuses"].get("200", 0)) for d in docs)
        p50 = max(d["by_status"].get("200", {}).get("p50", 0.0) for d in docs)
        p99[phase] = max(d["by_status"].get("200", {}).get("p99", 0.0) for d in docs)
        connected_file = os.path.join(work, f"outage.{phase}.connected")
        connected = "false" if os.path.exists(connected_file) else "true"
        table.append([{"usual": "running", "stopped": "stopped (SIGSTOP)", "gone": "killed",
                       "back": "started again"}[phase], calls, ok, f"{p50:.1f}", f"{p99[phase]:.1f}",
                      connected])
        answered[phase] = (ok, calls)
    print(table_of(head, table))
    bound = p99["usual"] * factor + slack
    with open(os.path.join(work, "outage.resumed")) as f:
        resumed = float(f.read())
    print(f"\nMax over the {replicas} replicas of each one's p50 and p99. Sharing resumed "
          f"{resumed:.2f} s after Redis came back (every replica connected, all {replicas} live).")
    words = {"usual": "running", "stopped": "stopped (SIGSTOP)", "gone": "killed", "back": "started again"}
    for phase in phases:
        ok, calls = answered[phase]
        promises.check(ok == calls, f"Redis {words[phase]}: no request fails", f"{ok} of {calls} answered 200")
    # A p99 of a few hundred calls moves from phase to phase on a loaded machine; a Redis call on
    # the path would put its timeout (100 ms) or more into every call of the phase.
    for phase in ("stopped", "gone"):
        promises.check(p99[phase] <= bound,
                       f"Redis {words[phase]}: no slower than usual, p99 at most {factor} x the "
                       f"usual {p99['usual']:.1f} ms + {slack:g} ms = {bound:.1f} ms",
                       f"{p99[phase]:.1f} ms")
    promises.check(resumed <= resume_limit,
                   f"sharing resumes within {resume_limit:g} s of Redis coming back", f"{resumed:.2f} s")


def cost_table(work, requests, max_ratio, promises):
    head = ["service A (article profile)", "instructions/request", "answered 200", "instructions counted"]
    table = []
    per = {}
    for name, label in (("off", "fleet off"), ("on", "fleet on, 5 replicas")):
        with open(os.path.join(work, "callgrind", name + ".ir")) as f:
            total = int(f.read())
        with open(os.path.join(work, "callgrind", name + ".json")) as f:
            ok = int(json.load(f)["statuses"].get("200", 0))
        promises.check(ok == requests, f"under callgrind, {label}: every request answered 200",
                       f"{ok} of {requests}")
        per[name] = total / ok if ok else 0.0
        table.append([label, f"{per[name]:,.0f}", f"{ok:,}", f"{total:,}"])
    print(table_of(head, table))
    ratio = per["on"] / per["off"] if per["off"] else float("nan")
    print(f"\nfleet on / fleet off: {ratio:.4f}x ({(ratio - 1) * 100:+.2f} %), under callgrind, "
          f"{requests} requests each; user space only")
    promises.check(ratio <= max_ratio,
                   f"the healthy path costs at most {(max_ratio - 1) * 100:g} % more instructions "
                   f"with the fleet on", f"{(ratio - 1) * 100:+.2f} %")


def report(args):
    work = args[0]
    replicas, threshold, recovery, wanted, requests = (int(a) for a in args[1:6])
    resume_limit, max_ratio, factor, slack = (float(a) for a in args[6:10])
    rows = load_rows(work)
    promises = Promises()
    print(f"\n## B failing: calls one at a time, round robin over {replicas} replicas of A "
          f"(failure threshold {threshold}, recovery timeout {recovery} s); B fails each after 300 ms\n")
    failing_table(rows, replicas, threshold, recovery, wanted, promises)
    print(f"\n## A broken path: replica 3 calls a dead port, B healthy; 10 rounds of calls\n")
    broken_table(rows, replicas, promises)
    print(f"\n## Redis lost in the middle of a healthy run: quorum 1, every replica under load\n")
    outage_table(work, replicas, resume_limit, factor, slack, promises)
    print("\n## The cost: instructions per healthy /call under callgrind\n")
    cost_table(work, requests, max_ratio, promises)
    print("\n## What the fleet promises, checked\n")
    promises.print()
    for broken in promises.broken:
        print(f"not held: {broken}", file=sys.stderr)
    return 1 if promises.broken else 0


def main():
    command, *args = sys.argv[1:]
    if command == "row":
        print(json.dumps(row(args[0], args[1:])))
        return 0
    if command == "report":
        return report(args)
    sys.exit(f"no command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
