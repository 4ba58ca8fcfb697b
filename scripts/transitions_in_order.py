#!/usr/bin/env python3
"""transitions_in_order.py: whether a log names the wanted state changes in order, for
scripts/demo.sh.

Usage: transitions_in_order.py LINES WANTED

  LINES   the log's transition lines, one a line ("... circuit call_service_b: CLOSED -> OPEN ...")
  WANTED  the transitions, ", "-separated ("CLOSED -> OPEN, OPEN -> HALF_OPEN")

Exits 0 when each wanted transition appears (": FROM -> TO " in a line) in a line after the one
where the previous appeared, 1 otherwise. Prints nothing.
"""

import sys


def main(argv):
    wanted = argv[1].split(", ")
    lines = iter(argv[0].splitlines())
    # Each wanted transition must appear after the previous one: `any` consumes the lines.
    missing = [w for w in wanted if not any(f": {w} " in f"{line} " for line in lines)]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
