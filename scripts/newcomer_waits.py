#!/usr/bin/env python3
"""newcomer_waits.py: the newcomer's waits of scripts/hostile.sh, summed up as one JSON object.

Usage: newcomer_waits.py WAIT...

  WAIT  one probe's time to answer in seconds (curl's time_total), or "unanswered"

Prints {"probes": N, "unanswered": N, "median_s": S, "max_s": S}, the median and the maximum
of the answered waits (null when none was answered).
"""

import json
import statistics
import sys


def main(waits):
    answered = [float(w) for w in waits if w != "unanswered"]
    print(json.dumps({"probes": len(waits), "unanswered": len(waits) - len(answered),
                      "median_s": round(statistics.median(answered), 4) if answered else None,
                      "max_s": max(answered) if answered else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
