"""Why counters disagree: one convention's total taken to others', line by line.

Layers are grouped by the PyTorch call that computes them (what the tools key their rules
on, :mod:`~costmodel.core.calls`); each line has the number of layers behind it, the elements
of their input and output tensors, the base convention's MACs for them, and what each other
convention adds to (or takes from) that line, with the rule it applies. The base total plus a
column's lines is that convention's total, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.conventions import CONVENTIONS, DEFAULT, call_of, convention as get_convention, rule_of
from ..core.network import Network, exact

#: the rule quantities as the table abbreviates them
_SHORT = {"input": "in", "output": "out", "macs": "MACs", "bias": "bias"}


@dataclass(frozen=True)
class Line:
    """Layers written with one PyTorch call: how many, their elements, and per convention
    their MACs and the rule that gave them."""

    call: str
    ops: int
    input_elements: Any
    output_elements: Any
    macs: dict[str, Any]
    rules: dict[str, str]


@dataclass(frozen=True)
class Explanation:
    model: str
    config: dict[str, Any]
    base: str
    targets: tuple[str, ...]
    lines: tuple[Line, ...]
    macs: dict[str, Any]      # convention -> total MACs
    params: dict[str, Any]    # convention -> total params

    def delta(self, line: Line, target: str) -> Any:
        return line.macs[target] - line.macs[self.base]


def explain(network: Network, between: Sequence[str] | None = None) -> Explanation:
    """Take ``between[0]``'s total MACs to each of the others' (default: ``paper`` to every
    other convention)."""
    names = list(between or CONVENTIONS)
    if len(names) < 2:
        names = [DEFAULT, *(n for n in CONVENTIONS if n not in names and n != DEFAULT)] \
            if not names or names[0] == DEFAULT else [DEFAULT, *names]
    conventions = [get_convention(name) for name in names]
    groups: dict[str, list] = {}
    for layer in network.layers:
        groups.setdefault(call_of(layer), []).append(layer)
    lines = []
    for call, layers in groups.items():
        lines.append(Line(
            call, len(layers),
            exact(sum(layer.inputs[0].numel for layer in layers if layer.inputs)),
            exact(sum(layer.output.numel for layer in layers)),
            {c.name: exact(sum(c.layer_macs(layer) for layer in layers)) for c in conventions},
            {c.name: _rule(c, layers) for c in conventions}))
    return Explanation(network.name, dict(network.config), names[0], tuple(names[1:]),
                       tuple(lines),
                       {n: exact(network.macs(n)) for n in names},
                       {n: exact(network.params(n)) for n in names})


def _rule(conv, layers) -> str:
    if conv.tool is None:
        return "MACs" if any(layer.counts.macs != 0 for layer in layers) else "0"
    rules = {rule_of(conv, layer)[0] for layer in layers}
    rules.discard("0") if len(rules) > 1 else None
    text = " | ".join(sorted(str(r) for r in rules))
    for long, short in _SHORT.items():
        text = text.replace(long, short)
    return text


def why_lines(explanation: Explanation) -> list[str]:
    """One sentence per convention: its total as the base total plus its non-zero lines,
    e.g. ``fvcore 314,193,216 = paper 300,774,272 + 13,356,224 nn.BatchNorm2d (2 in) + ...``.
    The zoo's notes quote these (tests/test_explain.py checks they are current)."""
    e = explanation
    lines = []
    for target in e.targets:
        terms = [f"{'+' if d > 0 else '−'} {_n(abs(d))} {line.call} ({line.rules[target]})"
                 for line in e.lines if (d := e.delta(line, target)) != 0]
        lines.append(" ".join([f"{target} {_n(e.macs[target])} = {e.base} "
                               f"{_n(e.macs[e.base])}", *terms]))
    return lines


def why_note(explanation: Explanation, spec: str) -> str:
    """A one-line note for a model file: each convention's total, readable, and the command
    that explains them (tests/test_explain.py checks the zoo's notes against it)."""
    from ..report.table import human

    e = explanation
    figures = ", ".join(f"{human(e.macs[t])} ({t})" for t in e.targets)
    return (f"Counters print {figures} MACs: `costmodel explain {spec}` takes the "
            f"{e.base} convention's {human(e.macs[e.base])} to each, op by op.")


def records(explanation: Explanation) -> dict[str, Any]:
    """The JSON form: exact integers, every line's MACs and rule per convention."""
    from ..report.table import plain

    e = explanation
    return {"model": e.model, "config": plain(e.config), "base": e.base,
            "conventions": list(e.targets), "units": "MACs (1 MAC = 2 FLOPs)",
            "lines": [{"call": line.call, "ops": line.ops,
                       "input_elements": plain(line.input_elements),
                       "output_elements": plain(line.output_elements),
                       e.base: plain(line.macs[e.base]),
                       "deltas": {t: {"macs": plain(e.delta(line, t)), "rule": line.rules[t]}
                                  for t in e.targets}} for line in e.lines],
            "totals": {n: {"macs": plain(e.macs[n]), "params": plain(e.params[n])}
                       for n in (e.base, *e.targets)}}


def explain_table(explanation: Explanation):
    """A :class:`~costmodel.report.table.Table`: a line per PyTorch call, then each
    convention's exact total and params."""
    from ..core.numbers import plain
    from ..report.table import Column, Table

    e = explanation
    columns = (Column("call", "PyTorch call"), Column("ops", "ops", "delta", drop=1),
               Column("input", "input elements", "delta", drop=3),
               Column("output", "output elements", "delta", drop=2),
               Column(e.base, e.base, "delta"),
               *(Column(t, t, "delta") for t in e.targets))
    rows = [{"call": f"{e.base} total", **{t: _n(e.macs[e.base]) for t in e.targets}}]
    for line in e.lines:
        rows.append({"call": line.call, "ops": str(line.ops),
                     "input": _n(line.input_elements), "output": _n(line.output_elements),
                     e.base: _n(line.macs[e.base]),
                     **{t: _delta(e.delta(line, t), line.rules[t]) for t in e.targets}})
    rows.append({"call": "= total MACs", e.base: _n(e.macs[e.base]),
                 **{t: _n(e.macs[t]) for t in e.targets}})
    rows.append({"call": "params", e.base: _n(e.params[e.base]),
                 **{t: _n(e.params[t]) for t in e.targets}})
    notes = ("MACs = multiply-accumulates; 1 MAC = 2 FLOPs. Each convention's column starts "
             f"from the {e.base} total; a line adds what that convention counts for the layers written "
             "with that call beyond the base (its rule in brackets: in/out = elements of the "
             "layers' input/output, bias = their biased output elements); the lines sum "
             "exactly to the total.",
             *(f"{t}: {get_convention(t).description}." for t in (e.base, *e.targets)
               if get_convention(t).tool is None),
             *(f"{t}: {get_convention(t).tool.version}, {get_convention(t).tool.how}."
               for t in e.targets if get_convention(t).tool is not None))
    settings = ", ".join(f"{k}={plain(v, exact_fractions=True)}" for k, v in e.config.items())
    return Table(f"Why counters differ: {e.model} ({settings})", columns, tuple(rows), notes,
                 hidden_hint="--between paper NAME ... shows the conventions named; ")


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _delta(value: Any, rule: str) -> str:
    if value == 0:
        return "·"
    sign = "+" if isinstance(value, int) and value > 0 else ""
    return f"{sign}{_n(value)} ({rule})"
