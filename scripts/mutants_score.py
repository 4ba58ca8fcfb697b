"""The score of one cargo-mutants run, for scripts/mutants.sh: the counts of its outcomes and the
name of every mutant it missed or that timed out.

    mutants_score.py OUTCOMES_JSON

OUTCOMES_JSON is the `mutants.out/outcomes.json` cargo-mutants wrote.
"""

import json
import sys


def main(path):
    with open(path) as file:
        outcomes = json.load(file)
    counts = {k: outcomes.get(k, 0) for k in ("caught", "missed", "unviable", "timeout", "success")}
    print(
        "  {total} mutants: {caught} caught, {missed} missed, {timeout} timed out, "
        "{unviable} unviable".format(total=outcomes.get("total_mutants", 0), **counts)
    )
    for outcome in outcomes["outcomes"]:
        scenario = outcome["scenario"]
        if isinstance(scenario, dict) and outcome["summary"] in ("MissedMutant", "Timeout"):
            print("    {}: {}".format(outcome["summary"], scenario["Mutant"]["name"]))


if __name__ == "__main__":
    main(sys.argv[1])
