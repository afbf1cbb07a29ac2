"""How repeatable is a kernel calibration? Measure once, refit many times (issue 19).

A calibration is measurement (minutes of timing) then fitting (seconds). Five evidence runs of
one code, seed and set of networks gave 14% to 71% of the test networks within ±10%: only
timing noise differed between them. This script separates the two steps so that a change to
the fit can be judged on the *same* measurements, and its repeatability on several.

    python benchmarks/latency_repeat.py collect --sets 4 --out /tmp/sets   # ~5 min a set
    python benchmarks/latency_repeat.py refit /tmp/sets                    # seconds

``collect`` runs ``calibrate_samples`` (PyTorch eager, one thread, the default budget) and then
measures the evidence's test networks (:mod:`latency_evidence`), per set, so that each set's
test times are taken minutes after its calibration (this machine's speed drifts 5–8% over
10–20 minutes). Everything is written as JSON (kernel samples with their features, fusion
rules, each synthetic network's name and seconds, the test networks' times); the synthetic
networks are rebuilt from their seed. ``refit`` fits a profile on each set
(:func:`costmodel.kernels.calibration.profile_from`) and prints, per set, the share of its
own test networks within ±10% and ±25%, and the same for every other set's test times (the
spread across columns is test-measurement noise, across rows calibration noise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _write_json(path: Path, data) -> None:
    """``data`` as JSON at ``path``, atomically (a temporary file renamed over it)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(temporary, path)


def _sample_data(sample) -> dict:
    config = sample.config
    return {"kind": sample.kind, "seconds": sample.seconds, "spread": sample.spread,
            "where": sample.where, "features": dict(sample.features),
            "config": None if config is None else
            {"op": config.op, "attrs": [list(a) for a in config.attrs],
             "inputs": [list(i) for i in config.inputs], "batch": config.batch}}


def _sample_of(data: dict):
    from costmodel.kernels.sample import Config, Sample

    config = data["config"]
    if config is not None:
        config = Config(str(config["op"]), tuple((str(k), int(v)) for k, v in config["attrs"]),
                        tuple(tuple(int(v) for v in i) for i in config["inputs"]),
                        int(config["batch"]))
    return Sample(str(data["kind"]), config, float(data["seconds"]), float(data["spread"]),
                  tuple((str(k), float(v)) for k, v in data["features"].items()),
                  str(data["where"]))


def collect(args) -> None:
    import torch

    import latency_evidence as E
    from costmodel.kernels.allocator import retain_freed_memory
    from costmodel.kernels.measure import calibrate_samples

    torch.set_num_threads(1)
    retain_freed_memory()
    args.out.mkdir(parents=True, exist_ok=True)
    items, _ = E.on_runtime(E.networks(), "torch")
    for index in range(args.sets):
        measured = calibrate_samples(args.budget, args.seed)
        times = E.measure_all(items, args.rounds, "cpu")
        _write_json(args.out / f"set{index}.json", {
            "budget": args.budget, "seed": args.seed, "allocator": measured.allocator,
            "samples": [_sample_data(s) for s in measured.samples],
            "rules": [list(r) for r in measured.rules],
            "context": [[network.name, seconds] for network, seconds in measured.context],
            "tests": {label: statistics.median(t) for label, t in times.items()},
            "noise": {label: (max(t) - min(t)) / min(t) for label, t in times.items()}})
        print(f"set {index}: {len(measured.samples)} samples, {len(measured.context)} "
              "networks", file=sys.stderr)


def load_set(path: Path, synthetic_cache: dict):
    """A collected set: (samples, rules, context pairs, test seconds by label)."""
    from costmodel.kernels.measure import context_networks
    from costmodel.kernels.synthetic import networks

    data = json.loads(path.read_text(encoding="utf-8"))
    budget, seed = float(data["budget"]), int(data["seed"])
    key = (2 * context_networks(budget), seed)  # as calibrate_samples drew them
    if key not in synthetic_cache:
        synthetic_cache[key] = {n.name: n for n in networks(*key)}
    by_name = synthetic_cache[key]
    context = tuple((by_name[name], float(seconds)) for name, seconds in data["context"])
    rules = tuple((str(k), bool(f), float(s)) for k, f, s in data["rules"])
    return (tuple(_sample_of(s) for s in data["samples"]), rules, context,
            {str(k): float(v) for k, v in data["tests"].items()})


def refit(args) -> None:
    import latency_evidence as E
    from costmodel.kernels.calibration import profile_from
    from costmodel.kernels.profile import predict

    tests = {label: (net, batch) for label, net, _, _, batch in E.networks()}
    cache: dict = {}
    sets = [load_set(p, cache) for p in sorted(args.directory.glob("set*.json"))]
    if not sets:
        raise SystemExit(f"no set*.json in {args.directory}: run `collect` first")
    predictions = []
    for samples, rules, context, _ in sets:
        profile = profile_from(samples, rules, context, "refit", "", "torch", 1, "refit")
        predictions.append({label: predict(net, profile, batch).total_seconds
                            for label, (net, batch) in tests.items()})
    print("within ±10% (±25%) of each set's test times; rows: the profile fitted on set i")
    for i, predicted in enumerate(predictions):
        cells = []
        for _, _, _, measured in sets:
            errors = [abs(predicted[k] / measured[k] - 1) for k in measured]
            cells.append(f"{100 * sum(e <= .1 for e in errors) / len(errors):3.0f}% "
                         f"({100 * sum(e <= .25 for e in errors) / len(errors):3.0f}%)")
        print(f"profile {i}: " + "  ".join(cells))
    if args.verbose:
        for label in tests:
            print(f"{label:45s} " + " ".join(
                f"{100 * (p[label] / s[3][label] - 1):+6.1f}%" for p, s in zip(predictions, sets)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("collect", help="measure calibration sets and test networks")
    c.add_argument("--sets", type=int, default=3)
    c.add_argument("--budget", type=float, default=180.0)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--out", type=Path, required=True)
    r = commands.add_parser("refit", help="fit each collected set and score it")
    r.add_argument("directory", type=Path)
    r.add_argument("--verbose", action="store_true", help="every network's error per set")
    args = parser.parse_args()
    collect(args) if args.command == "collect" else refit(args)


if __name__ == "__main__":
    main()
