"""Cold start of `costmodel compare mobilenet_v1 vgg16`, against `python -c "import sympy"`.

Issue #2's target: the whole process takes at most 1.5 times as long as importing sympy on the
same machine. Each command runs as a fresh process, alternately; medians are reported.
Usage: python benchmarks/bench_startup.py [REPEAT]
"""

from __future__ import annotations

import sys

from timing import median_times

COMMANDS = {
    "python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
    "costmodel compare mobilenet_v1 vgg16": [sys.executable, "-m", "costmodel", "compare",
                                             "mobilenet_v1", "vgg16"],
}


def main(repeat: int = 9) -> dict[str, float]:
    medians = median_times(COMMANDS, repeat)
    base = medians["python -c 'import sympy'"]
    for name, value in medians.items():
        print(f"{name:40s} median {value:.3f} s  ({value / base:.2f}× import sympy)")
    return medians


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
