#!/usr/bin/env python3
"""log_transitions.py: whether service A's JSON log tells the story scripts/observe.sh caused,
and the same story as Prometheus's transition counter. Standard library only.

Usage: log_transitions.py LOG WANTED <PROMETHEUS_ANSWER

  LOG     service A's log, one JSON object a line (--log-format json)
  WANTED  the transitions the scenario causes, in order, as "from>to" words
  stdin   Prometheus's answer to `circuit_breaker_transitions_total > 0` (/api/v1/query)

Prints each transition line of the log, then the count both agree on. Exits 1 with the reason
when the log's transitions are not WANTED in that order, the first trip's reason is not the
failure rate, or Prometheus counted other transitions than the log has.
"""

import collections
import json
import sys


def main(argv):
    lines = [json.loads(line) for line in open(argv[0]) if line.startswith("{")]
    logged = [entry for entry in lines if "from" in entry and "to" in entry]
    for entry in logged:
        print(f'{entry["level"]:5} {entry["breaker"]}: {entry["from"]} -> {entry["to"]} ({entry["reason"]})')
    sequence = [f'{entry["from"]}>{entry["to"]}' for entry in logged]
    wanted = argv[1].split()
    if sequence != wanted:
        sys.exit(f"logged {sequence}, expected {wanted}")
    if not logged[0]["reason"].startswith("failure rate"):
        sys.exit(f'the trip\'s reason is {logged[0]["reason"]!r}, expected the failure rate')
    counted = {f'{s["metric"]["from"]}>{s["metric"]["to"]}': round(float(s["value"][1]))
               for s in json.load(sys.stdin)["data"]["result"]}
    if counted != dict(collections.Counter(sequence)):
        sys.exit(f"Prometheus counted {counted}, the log has {dict(collections.Counter(sequence))}")
    print(f"{len(logged)} transitions in the log, the same {sum(counted.values())} in Prometheus")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
