#!/usr/bin/env python3
"""Shows one history's figures side by side, model vs C++, month by month (for diagnosing).

  python3 tests/model/show.py --driver build/tests/model/model_driver HISTORY.json
"""
import argparse
import json
import sys

import diff_test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("history")
    a = ap.parse_args()
    with open(a.history) as f:
        h = json.load(f)
    h = {k: v for k, v in h.items() if not k.startswith("note")}
    d = diff_test.Driver(a.driver)
    want, got = diff_test.run_model(h), d.run(h)
    for i, c in enumerate(h["cmds"]):
        print(i, json.dumps(c), "| model", want["results"][i], "| C++", got["results"][i])
    for m in want["months"]:
        fm, fc = want["months"][m], got["months"][m]
        diffs = {k: (fm[k], fc[k]) for k in diff_test.FIGURES if fm[k] != fc[k]}
        print(m, "model", {k: fm[k] for k in diff_test.FIGURES if fm[k]})
        print(m, "lines model", fm["lines"], "C++", diff_test.normalise_lines(fc["lines"]))
        if diffs:
            print(m, "DIFF (model, C++):", diffs)
    print("problems", got.get("problems"))
    d.close()


if __name__ == "__main__":
    sys.exit(main())
