"""A kernel profile fitted from whole-network latencies measured anywhere (a phone with
TF-Lite's benchmark tool, a Jetson): rows of SPEC and milliseconds.

With only whole-network times, a separate model per kernel type cannot be identified, so
the kernel types share four coefficients, all ≥ 0: seconds per MAC of a dense (or grouped, or
fully connected) kernel, per MAC of a depthwise kernel (ShuffleNet v2's lesson: these run at
a fraction of the dense rate), per byte moved by any kernel, and per kernel call. A network's
time is linear in them (its kernels' features summed), so the fit is the same relative
non-negative least squares as the kernel fits (:mod:`.fit`). Four coefficients need at least
``MIN_NETWORKS`` networks; ``RECOMMENDED_NETWORKS`` (10, HELP's anchor) is what the evidence
in ``reports/latency/`` measures accuracy for (``benchmarks/latency_evidence.py``).

Kernels are grouped by the deployment runtimes' rules (batch norm folded into the conv before
it, activations fused into the kernel they follow: ``DEPLOY_FUSION``) unless ``fused`` is
False, when every layer that is not an identity is its own kernel.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import CostModelError
from ..safe_io import printable, read_text_bounded
from .detect import group
from .fit import fit_relative
from .profile import KernelModel, KernelProfile

MIN_NETWORKS = 4
RECOMMENDED_NETWORKS = 10
MAX_ROWS = 10_000
MAX_CSV_BYTES = 2_000_000
PARAMETERS = ("dense_macs", "depthwise_macs", "bytes", "kernels")
DEPLOY_FUSION = ("conv->bn", "conv->act", "dwconv->bn", "dwconv->act", "bn->act",
                 "fc->act", "add->act")
DENSE = ("conv", "pwconv", "gconv", "gpwconv", "fc")
FREE = ("dropout",)  # the identity at inference: no kernel in a deployed graph


@dataclass(frozen=True)
class Row:
    spec: str
    seconds: float
    line: int


def read_rows(path: str) -> tuple[Row, ...]:
    """The rows of a measured CSV: ``SPEC,ms`` (a header line and ``#`` comments allowed)."""
    text = read_text_bounded(path, MAX_CSV_BYTES, "measured-latency CSV",
                             "MAX_CSV_BYTES in costmodel/kernels/whole.py")
    rows = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    for (number, line), fields in zip(lines, csv.reader(io.StringIO(
            "\n".join(line for _, line in lines)))):
        if len(fields) != 2:
            raise CostModelError(f"{printable(path)} line {number}: give SPEC,ms (two fields), "
                                 f"got {len(fields)}")
        spec, ms = fields[0].strip(), fields[1].strip()
        try:
            value = float(ms)
        except ValueError:
            if not rows and number == lines[0][0]:
                continue  # a header line
            raise CostModelError(f"{printable(path)} line {number}: '{printable(ms, 40)}' is "
                                 "not a number of milliseconds") from None
        if not math.isfinite(value) or not 0 < value < 3.6e6:
            raise CostModelError(f"{printable(path)} line {number}: {printable(ms, 40)} ms: "
                                 "give a positive, finite time under an hour")
        rows.append(Row(spec, value / 1e3, number))
        if len(rows) > MAX_ROWS:
            raise CostModelError(f"{printable(path)}: more than {MAX_ROWS:,} rows")
    if len(rows) < MIN_NETWORKS:
        raise CostModelError(f"{printable(path)}: {len(rows)} measured network(s); the fit "
                             f"has {len(PARAMETERS)} coefficients and needs at least "
                             f"{MIN_NETWORKS} ({RECOMMENDED_NETWORKS} or more for ±10%)")
    return tuple(rows)


def network_features(network, fused: bool = True) -> list[float]:
    """The four summed features of ``network`` (module doc), for one image, fp32."""
    totals = dict.fromkeys(PARAMETERS, 0.0)
    for kernel in group(network, frozenset(DEPLOY_FUSION if fused else ())):
        if kernel.type in FREE or (fused and kernel.type in ("split",)):
            continue
        values = dict(kernel.features)
        key = "depthwise_macs" if kernel.type == "dwconv" else "dense_macs"
        if kernel.type in DENSE or kernel.type == "dwconv":
            totals[key] += values["macs"]
        totals["bytes"] += values["bytes"]
        totals["kernels"] += 1
    return [totals[name] for name in PARAMETERS]


def fit_networks(rows: Sequence[Sequence[float]], seconds: Sequence[float]
                 ) -> dict[str, float]:
    return dict(fit_relative(PARAMETERS, rows, seconds).coefficients)


def profile_from_networks(coefficients: dict[str, float], name: str, source: str,
                          count: int, fused: bool = True) -> KernelProfile:
    """A kernel profile whose types share the whole-network fit's coefficients."""
    shared = (("bytes", coefficients["bytes"]), ("one", coefficients["kernels"]))
    types = ("conv", "pwconv", "gconv", "gpwconv", "fc", "dwconv", "bn", "relu", "relu6",
             "sigmoid", "hsigmoid", "hswish", "swish", "add", "mul", "concat", "split",
             "shuffle", "maxpool", "avgpool", "gap", "adaptivepool", "lrn")
    models = []
    for kind in types:
        if fused and kind == "split":  # a view in a deployed graph
            models.append((kind, KernelModel((("one", 0.0),), count)))
            continue
        macs = {"dwconv": coefficients["depthwise_macs"]}.get(
            kind, coefficients["dense_macs"] if kind in DENSE else None)
        coefs = ((("macs", macs),) if macs is not None else ()) + shared
        models.append((kind, KernelModel(coefs, count)))
    models.append(("dropout", KernelModel((("one", 0.0),), count)))
    return KernelProfile(name, "measured elsewhere", source, 1,
                         f"fitted from {count} whole-network latencies (costmodel calibrate "
                         f"--from); kernel types share {len(PARAMETERS)} coefficients",
                         tuple(models), tuple((rule, True) for rule in DEPLOY_FUSION)
                         if fused else ())


def calibrate_from(path: str, name: str, build: Callable[[str], object],
                   fused: bool = True) -> tuple[KernelProfile, list[tuple[Row, float]]]:
    """The profile fitted on every row of ``path`` and each row's fitted prediction."""
    rows = read_rows(path)
    features = []
    for row in rows:
        try:
            features.append(network_features(build(row.spec), fused))
        except CostModelError as exc:
            raise CostModelError(f"{printable(path)} line {row.line}: {exc}") from None
    coefficients = fit_networks(features, [r.seconds for r in rows])
    profile = profile_from_networks(coefficients, name, f"measured: {printable(path)}",
                                    len(rows), fused)
    predicted = [sum(coefficients[p] * v for p, v in zip(PARAMETERS, f)) for f in features]
    return profile, list(zip(rows, predicted))
