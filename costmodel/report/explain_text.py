"""The renderings of :func:`costmodel.analysis.explain.explain`: the table of ``costmodel
explain`` (a line per PyTorch call, each convention's delta and rule) and the sentences the
zoo's notes quote (:func:`why_lines`, :func:`why_note`). The explanation itself, and its JSON
(:func:`~costmodel.analysis.explain.records`), are data in the analysis."""

from __future__ import annotations

from ..core.numbers import plain

from typing import Any

from ..analysis.explain import Explanation
from ..core.conventions import convention as get_convention
from .table import Column, Table, human


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
    e = explanation
    figures = ", ".join(f"{human(e.macs[t])} ({t})" for t in e.targets)
    return (f"Counters print {figures} MACs: `costmodel explain {spec}` takes the "
            f"{e.base} convention's {human(e.macs[e.base])} to each, op by op.")


def explain_table(explanation: Explanation):
    """A :class:`~costmodel.report.table.Table`: a line per PyTorch call, then each
    convention's exact total and params."""
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


def _delta(value: Any, rule: str) -> str:
    if value == 0:
        return "·"
    sign = "+" if isinstance(value, int) and value > 0 else ""
    return f"{sign}{_n(value)} ({rule})"


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
