"""Wall time of `costmodel report`: every paper table and figure, and the tables alone.

Targets (issue #6, moved here from timed assertions in tests/test_report.py): the whole report,
tables and figures, within a minute; the 14 tables alone well under ten seconds. Each command
runs as a fresh process into a temporary folder, after one warm-up run.

Usage: python benchmarks/bench_report.py [REPEAT]
"""

from __future__ import annotations

import sys
import tempfile

from timing import median_times

TABLES = ("mobilenet_v1_table2 mobilenet_v1_table3 mobilenet_v1_table4 mobilenet_v1_table5 "
          "mobilenet_v1_table6 mobilenet_v1_table7 mobilenet_v1_table8 mobilenet_v1_table9 "
          "shufflenet_v1_table1 shufflenet_v1_table2 shufflenet_v1_table5 shufflenet_v1_table6 "
          "mobilenet_v2_table4 shufflenet_v2_table5").split()
TARGETS = {"report (tables and figures)": 60.0, "report --only the 14 tables": 10.0}


def main(repeat: int = 3) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = [sys.executable, "-m", "costmodel", "report", "--quiet", "--out"]
        only = [arg for name in TABLES for arg in ("--only", name)]
        times = median_times({"report (tables and figures)": [*base, f"{folder}/all"],
                              "report --only the 14 tables": [*base, f"{folder}/t", *only]},
                             repeat)
    print(f"costmodel report, median of {repeat} runs")
    for name, seconds in times.items():
        verdict = "met" if seconds < TARGETS[name] else "MISSED"
        print(f"  {name:34s} {seconds:7.2f} s   target < {TARGETS[name]:.0f} s: {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
