"""ShuffleNet v2's four practical guidelines (Ma et al., arXiv 1807.11164, §2), checked over
any network.

* **G1** equal channel widths minimize memory access cost (MAC): for every 1×1 convolution,
  its MAC against the minimum at the same FLOPs, 2·√(hwB) + B/(hw), reached at c1 = c2.
* **G2** excessive group convolution increases MAC: for every grouped (not depthwise)
  convolution, its MAC against a dense convolution with the same FLOPs and input width,
  h·w·c1 + B·g/c1 + B/(hw) at g against g = 1.
* **G3** network fragmentation reduces parallelism: parallel branches (with at least one
  convolution or pooling) into each merge, and the small ops on them.
* **G4** element-wise operations are non-negligible: the share of activations, adds, muls,
  splits, concats and shuffles in the memory traffic.

Both MAC formulas come from the derivations ``shufflenet_v2_g1`` and ``shufflenet_v2_g2`` of
:mod:`costmodel.analysis.derive` (built from the layer primitives there), evaluated at each
layer's shape; they are not written twice. The thresholds below are this module's choices,
stated in every result: the paper gives measurements, not limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Expr

from ..core.network import Layer, Network
from ..core.opdef import category_of
from . import memory

#: A 1×1 conv whose MAC exceeds the balanced minimum by more than this is flagged (G1):
#: about 1:3 widths ((1 + 3)/(2√3) - 1 = 15.5%); the paper's Table 1 measures 1:2 at 6% excess
#: as nearly free and 1:6 (43%) as clearly slower.
G1_LAYER_EXCESS = 15
#: G2 fails when some grouped conv has at least this much more MAC than a dense one with the
#: same FLOPs (memory access doubled); it warns for any smaller excess.
G2_FAIL_EXCESS = 100
#: G3: parallel branches into one merge that warn and fail (GoogLeNet's Inception has 4).
G3_WARN, G3_FAIL = 3, 4
#: G4: the element-wise share of the traffic left after fusing activations and splits into
#: their producers (what a runtime cannot fuse away: adds, muls, concats, shuffles) that warns
#: and fails, in %. The unfused share, activations included, is the reported value.
G4_WARN, G4_FAIL = 10, 25
#: ShuffleNet v2's element-wise operators: the ops of these categories (core/opdef.py)
ELEMENTWISE_CATEGORIES = ("activation", "element-wise", "data movement")


def _elementwise(op: str) -> bool:
    return category_of(op) in ELEMENTWISE_CATEGORIES


@dataclass(frozen=True)
class Finding:
    """One layer (or merge) a guideline looks at: its figures and whether it is flagged."""

    name: str
    detail: dict[str, Any]
    flagged: bool


@dataclass(frozen=True)
class Check:
    """A guideline's verdict on a network: status pass/warn/fail, its headline value (what
    ``value_label`` says), the layers that break it and the per-layer findings."""

    guideline: str
    title: str
    status: str
    value: float | int | None
    value_label: str
    rule: str
    findings: tuple[Finding, ...]

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.findings if f.flagged)


def _derivation_quantity(name: str, label: str) -> tuple[Expr, dict[str, sympy.Symbol]]:
    from .derive import derive

    d = derive(name)
    expr = next(q.expr for q in d.extras if q.label == label)
    return expr, {s.name: s for s in expr.free_symbols}


def _is_one_by_one(layer: Layer) -> bool:
    return layer.op == "pw" or (layer.op == "conv" and dict(layer.attrs).get("k") == 1)


def _groups(layer: Layer) -> Any:
    return dict(layer.attrs).get("g", 1)


def _pct(part: Expr, whole: Expr) -> float | None:
    return None if whole == 0 else round(100 * float(part / whole), 2)


def g1(network: Network) -> Check:
    bound_expr, sym = _derivation_quantity("shufflenet_v2_g1", "lower bound")
    findings, excess_total, bound_total = [], sympy.Integer(0), sympy.Integer(0)
    for layer in network.layers:
        if not _is_one_by_one(layer) or _groups(layer) != 1:
            continue
        c1, c2 = layer.inputs[0].c, layer.output.c
        h, w = layer.output.h, layer.output.w
        mac = memory.layer_memory(layer).traffic
        bound = bound_expr.subs({sym["H"]: h, sym["W"]: w, sym["B"]: layer.counts.macs})
        excess = _pct(mac - bound, bound)
        excess_total += mac - bound
        bound_total += bound
        findings.append(Finding(layer.name, {
            "c1": int(c1), "c2": int(c2), "ratio": round(float(max(c1, c2) / min(c1, c2)), 3),
            "mac": int(mac), "balanced_mac": round(float(bound), 1), "excess_percent": excess},
            excess is not None and excess > G1_LAYER_EXCESS))
    value = _pct(excess_total, bound_total) if findings else None
    flagged = any(f.flagged for f in findings)
    status = "pass" if not flagged else "warn" if value is not None and value < G1_LAYER_EXCESS \
        else "fail"
    return Check("G1", "equal channel widths minimize memory access cost", status, value,
                 "MAC of the 1×1 convs above the balanced minimum at equal FLOPs, %",
                 f"a 1×1 conv is flagged above {G1_LAYER_EXCESS}% excess (about 1:3 widths); "
                 f"warn when the network's excess stays below {G1_LAYER_EXCESS}%, else fail",
                 tuple(findings))


def g2(network: Network) -> Check:
    at_fixed_b, sym = _derivation_quantity("shufflenet_v2_g2", "MAC at fixed B")
    findings = []
    for layer in network.layers:
        groups = _groups(layer)
        if layer.op not in ("conv", "pw") or groups == 1 or memory.is_depthwise(layer):
            continue
        values = {sym["H"]: layer.output.h, sym["W"]: layer.output.w, sym["B"]: layer.counts.macs,
                  sym["c1"]: layer.inputs[0].c}
        if _is_one_by_one(layer):  # the paper's Eq. 2, at g and at g = 1
            grouped = at_fixed_b.subs({**values, sym["g"]: groups})
            dense = at_fixed_b.subs({**values, sym["g"]: 1})
        else:  # k×k: a dense conv with the same FLOPs and input has c2/g outputs, same weights
            traffic = memory.layer_memory(layer)
            grouped = traffic.traffic
            dense = traffic.read + sympy.sympify(traffic.written, strict=True) / groups + traffic.weights
        excess = _pct(grouped - dense, dense)
        findings.append(Finding(layer.name, {"g": int(groups), "mac": int(grouped),
                                             "dense_mac": int(dense),
                                             "excess_percent": excess}, True))
    worst = max((f.detail["excess_percent"] for f in findings), default=None)
    status = "pass" if not findings else "fail" if worst >= G2_FAIL_EXCESS else "warn"
    return Check("G2", "excessive group convolution increases memory access cost", status,
                 worst, "largest MAC excess of a grouped conv over a dense one at equal FLOPs "
                        "and input width, %",
                 f"every grouped conv is listed; fail when one has ≥ {G2_FAIL_EXCESS}% excess "
                 "(memory access doubled), else warn", tuple(findings))


def _readers(network: Network) -> dict[str, int]:
    count: dict[str, int] = {}
    for layer in network.layers:
        for source in layer.sources:
            count[source] = count.get(source, 0) + 1
    return count


def g3(network: Network) -> Check:
    by_name = {layer.name: layer for layer in network.layers}
    readers = _readers(network)
    findings = []
    for layer in network.layers:
        if layer.op not in ("add", "concat", "mul"):
            continue
        branches = []
        for source in layer.sources:
            ops = 0
            while source in by_name:
                upstream = by_name[source]
                if upstream.op in ("conv", "pw", "dw", "fc", "maxpool", "avgpool", "gap",
                                   "adaptivepool"):
                    ops += 1
                if readers.get(upstream.sources[0], 0) != 1 or len(upstream.sources) != 1 \
                        or upstream.op in ("add", "concat", "mul"):
                    break
                source = upstream.sources[0]
            branches.append(ops)
        parallel = sum(1 for ops in branches if ops)
        findings.append(Finding(layer.name, {"parallel_branches": parallel,
                                             "ops_per_branch": branches},
                                parallel >= G3_WARN))
    worst = max((f.detail["parallel_branches"] for f in findings), default=0)
    status = "fail" if worst >= G3_FAIL else "warn" if worst >= G3_WARN else "pass"
    return Check("G3", "network fragmentation reduces the degree of parallelism", status,
                 worst, "most parallel branches (with a conv or pooling) into one merge",
                 f"a merge with ≥ {G3_WARN} such branches warns, ≥ {G3_FAIL} fails",
                 tuple(findings))


def g4(network: Network) -> Check:
    per_layer = memory.layers_memory(network)
    total = sympy.Add(*(m.traffic for m in per_layer))
    elementwise = sympy.Add(*(m.traffic for m in per_layer if _elementwise(m.op)))
    depthwise = sympy.Add(*(m.traffic for m in per_layer if m.depthwise))
    fused = memory.layers_memory(network, fused=True)
    fused_total = sympy.Add(*(m.traffic for m in fused))
    left = {m.name: m for m in fused if _elementwise(m.op) and m.traffic != 0}
    unavoidable = _pct(sympy.Add(*(m.traffic for m in left.values())), fused_total) or 0.0
    status = "fail" if unavoidable >= G4_FAIL else "warn" if unavoidable >= G4_WARN else "pass"
    findings = tuple(Finding(m.name, {"op": m.op, "traffic": int(m.traffic)},
                             status != "pass" and m.name in left)
                     for m in per_layer if _elementwise(m.op))
    return Check("G4", "element-wise operations are non-negligible", status,
                 _pct(elementwise, total),
                 "share of element-wise ops in the memory traffic, each op its own kernel, %",
                 f"status from the share left after fusing activations and splits "
                 f"({unavoidable}% of the fused traffic: adds, muls, concats, shuffles, the "
                 f"listed layers): warn at ≥ {G4_WARN}%, fail at ≥ {G4_FAIL}%. Depthwise "
                 f"convs, which the paper also calls element-wise, carry "
                 f"{_pct(depthwise, total)}% of the unfused traffic", findings)


CHECKS = (g1, g2, g3, g4)


def check(network: Network) -> tuple[Check, ...]:
    """All four guidelines over ``network`` (knobs must be numbers)."""
    if network.free_symbols:
        from ..errors import CostModelError
        raise CostModelError("guidelines need every knob set to a number (the thresholds "
                             "compare numbers)")
    return tuple(c(network) for c in CHECKS)


def records(checks: tuple[Check, ...]) -> list[dict[str, Any]]:
    """The JSON contract of `costmodel guidelines`: guideline, status, value, layers (plus
    title, what the value measures, the rule and the per-layer findings)."""
    return [{"guideline": c.guideline, "status": c.status, "value": c.value,
             "layers": list(c.layers), "title": c.title, "value_label": c.value_label,
             "rule": c.rule,
             "findings": [{"name": f.name, "flagged": f.flagged, **f.detail}
                          for f in c.findings]} for c in checks]
