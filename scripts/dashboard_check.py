#!/usr/bin/env python3
"""dashboard_check.py: scripts/observe.sh's checks of the Grafana dashboard, standard library only.

  dashboard_check.py model DASHBOARD
      Whether DASHBOARD (deploy/grafana/dashboard.json) is a model Grafana can import: one
      datasource input, DS_PROMETHEUS; unique panel ids; every panel on that datasource, with a
      full grid position and targets that each have an expression and a refId. Prints the panel
      count; fails with Python's AssertionError naming the panel otherwise.

  dashboard_check.py queries DASHBOARD PROMETHEUS_URL
      Every target of every panel, its Grafana variables filled in, through Prometheus's
      /api/v1/query: prints a line each (✔ with a series, ✘ with the reason); exits 1 when one
      errs or returns no series but NaN ones (nothing to draw).
"""

import json
import sys
import urllib.parse
import urllib.request

# What observe.sh's Prometheus stands in for Grafana's variables.
FILL = {"${name}": ".*", "$name": ".*", "$__rate_interval": "1m"}


def model(path):
    dashboard = json.load(open(path))
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"], "one datasource input"
    source = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        assert panel["datasource"] == source, panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}, panel["title"]
        assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"]), panel["title"]
    print(f"dashboard.json: {len(ids)} panels, every one on ${{DS_PROMETHEUS}}")
    return 0


def query(prometheus, expr):
    """The series Prometheus answers for `expr`, and its answer (an error's text in it)."""
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        answer = json.load(urllib.request.urlopen(url, timeout=5))
        series = answer["data"]["result"] if answer["status"] == "success" else []
    except Exception as err:  # an HTTP 400 for a bad query lands here
        series, answer = [], {"error": str(err)}
    return series, answer


def queries(path, prometheus):
    dashboard = json.load(open(path))
    failed = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in FILL.items():
                expr = expr.replace(variable, value)
            series, answer = query(prometheus, expr)
            where = f'{panel["title"]} [{target["refId"]}]'
            drawn = [s for s in series if s["value"][1] != "NaN"]  # a quantile of no calls is NaN
            if not drawn:
                failed.append(where)
                why = answer.get("error", "only NaN" if series else "no series")
                print(f"✘ {where}: {why}\n    {expr}")
            else:
                first = drawn[0]
                labels = ",".join(f"{k}={v}" for k, v in first["metric"].items())
                print(f"✔ {where}: {len(drawn)} series, e.g. {{{labels}}} = {first['value'][1]}")
    return 1 if failed else 0


def main(argv):
    if argv[:1] == ["model"] and len(argv) == 2:
        return model(argv[1])
    if argv[:1] == ["queries"] and len(argv) == 3:
        return queries(argv[1], argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
