"""Counting conventions: which raw counts a reported MAC or parameter number includes.

Counters disagree mostly because each silently picks a convention. costmodel names them, and
every output states the one in use. ``paper`` and ``torch`` need only the raw totals
(:class:`~costmodel.core.ops.Counts`). The others reproduce a counting tool exactly: each is
a rules table, PyTorch call (:mod:`~costmodel.core.calls`) -> what the tool counts for one
layer written with that call, read from the tool's source at the version named, and applied
layer by layer. A rule is a sum of terms over these quantities of the layer:

* ``macs``: the conv/FC multiply-accumulates (the paper convention's count);
* ``bias``: the output elements of a conv/FC layer that has a bias (0 without one);
* ``input`` / ``output``: the elements of the layer's (first) input / output tensor;
* ``padded``: for a local response norm of size n, the (C + n − 1)·H·W elements of the
  channel-padded map that ``F.local_response_norm`` pools (0 for other layers);

e.g. ``"2 input"`` is 2 per input element, ``"macs + bias"`` the MACs plus one per biased
output element, ``"0"`` nothing. ``None`` marks a call whose cost in that tool is not
modelled: applying the convention to such a layer is an error naming it. Everything counts
one image (batch 1), eval mode. MACs: 1 MAC = 2 FLOPs; the tools' "FLOPs" here are their
own MAC-like counts, reported as they print them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CostModelError
from .calls import FUNCTIONAL_CALLS as _FUNCTIONAL, call_of

if TYPE_CHECKING:  # sympy is imported by the code that counts, not by `costmodel --help`
    from sympy import Expr

    from .network import Layer
    from .ops import Counts


@dataclass(frozen=True)
class Tool:
    """A counting tool's rules: ``macs`` maps a PyTorch call to (rule, why); ``params`` says
    which parameters it reports ("all": ``model.parameters()``, BN scale and shift
    included; "hooked": only those of the module types in ``hooked``, which it has a rule
    for)."""

    name: str
    version: str
    how: str
    macs: Mapping[str, tuple[str | None, str]]
    params: str = "all"
    params_note: str = ""
    hooked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Convention:
    """How to turn a network's layers into reported MACs and params: from the summed raw
    :class:`~costmodel.core.ops.Counts` (``macs``/``params``), or per layer by a tool's
    rules table (``tool``)."""

    name: str
    description: str
    macs: Callable[["Counts"], "Expr"] | None = None
    params: Callable[["Counts"], "Expr"] | None = None
    tool: Tool | None = field(default=None)

    def layer_macs(self, layer: "Layer") -> "Expr":
        if self.tool is None:
            return self.macs(layer.counts)
        return apply_rule(self, layer)

    def layer_params(self, layer: "Layer") -> "Expr":
        if self.tool is None:
            return self.params(layer.counts)
        params = layer.counts.weights + layer.counts.norm_params
        if self.tool.params == "hooked" and call_of(layer) not in self.tool.hooked:
            return params * 0  # thop: a module without a rule reports no parameters
        return params


# --- the tools' rules -----------------------------------------------------------------------

_ZERO_ELSEWHERE = ("+", "+=", "*", "torch.cat", "channel_shuffle", "Tensor.chunk", "nn.Dropout")

FVCORE = Tool(
    "fvcore", "0.1.5 (0.1.5.post20221221)",
    "FlopCountAnalysis(model, x).total(): traces with torch.jit and counts aten ops "
    "(fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS, jit_handles.py); one MAC = one flop",
    {
        "nn.Conv2d": ("macs", "aten::_convolution: output × Cin/g × K²; bias not counted"),
        "nn.Linear": ("macs", "aten::linear: input × out features; bias not counted"),
        "nn.BatchNorm2d": ("2 input", "aten::batch_norm, eval and affine: 2 per element"),
        "nn.AdaptiveAvgPool2d": ("input", "aten::adaptive_avg_pool2d: 1 per input element"),
        "F.adaptive_avg_pool2d": ("input", "the same aten op as the module"),
        "Tensor.mean": ("0", "aten::mean: unsupported, skipped (a warning)"),
        "nn.MaxPool2d": ("0", "aten::max_pool2d: unsupported, skipped"),
        "nn.AvgPool2d": ("0", "aten::avg_pool2d: unsupported, skipped"),
        "nn.ReLU": ("0", "aten::relu_: in fvcore's ignore list"),
        "nn.ReLU6": ("0", "aten::hardtanh_: unsupported, skipped"),
        "nn.Sigmoid": ("0", "aten::sigmoid: unsupported, skipped"),
        "nn.Hardsigmoid": ("0", "aten::hardsigmoid: unsupported, skipped"),
        "nn.Hardswish": ("0", "aten::hardswish_: unsupported, skipped"),
        "nn.SiLU": ("0", "aten::silu_: unsupported, skipped"),
        "nn.LocalResponseNorm": ("0", "F.local_response_norm's aten::mul, avg_pool3d, pow, "
                                      "div: all unsupported, skipped"),
        **{call: ("0", "aten::add/add_/mul/cat/view/chunk/dropout: not counted")
           for call in _ZERO_ELSEWHERE},
        **{call: ("0", "as the module's aten op: skipped") for call in _FUNCTIONAL},
    },
    "all", "parameter_count(model)[\"\"]: every parameter, BN scale and shift included")

THOP = Tool(
    "thop", "0.1.1 (thop-0.1.1.post2209072238)",
    "profile(model, inputs): forward hooks on modules by type (thop/profile.py "
    "register_hooks, vision/basic_hooks.py, vision/calc_func.py); functional calls and "
    "operators are not seen; reports MACs",
    {
        "nn.Conv2d": ("macs", "count_convNd: output × Cin/g × K²; bias not counted"),
        "nn.Linear": ("macs", "count_linear: in_features × output elements; bias not counted"),
        "nn.BatchNorm2d": ("4 input", "count_normalization: calculate_norm's 2 per element, "
                                      "doubled again when affine (quirk: 4 per element)"),
        "nn.AdaptiveAvgPool2d": ("input + output", "count_adap_avgpool: (kernel + 1) per "
                                                   "output element; float, exact when the "
                                                   "output divides the input"),
        "F.adaptive_avg_pool2d": ("0", "a functional call: no hook"),
        "Tensor.mean": ("0", "a tensor method: no hook"),
        "nn.AvgPool2d": ("output", "count_avgpool: 1 per output element"),
        "nn.MaxPool2d": ("0", "zero_ops"),
        "nn.ReLU": ("0", "zero_ops"),
        "nn.ReLU6": ("0", "zero_ops"),
        "nn.Sigmoid": ("0", "no rule: zero"),
        "nn.Hardsigmoid": ("0", "no rule: zero"),
        "nn.Hardswish": ("0", "no rule: zero"),
        "nn.SiLU": ("0", "no rule: zero"),
        "nn.LocalResponseNorm": ("0", "no rule: zero"),
        **{call: ("0", "an operator or no-op module: zero") for call in _ZERO_ELSEWHERE},
        **{call: ("0", "a functional call: no hook") for call in _FUNCTIONAL},
    },
    "hooked", "only modules with a rule report their parameters() (a reused module once; "
              "the root module's own never: dfs_count sums its children)",
    frozenset({"nn.Conv2d", "nn.Linear", "nn.BatchNorm2d", "nn.AdaptiveAvgPool2d",
               "nn.AvgPool2d", "nn.MaxPool2d", "nn.ReLU", "nn.ReLU6", "nn.Dropout"}))

PTFLOPS = Tool(
    "ptflops", "0.7.5",
    "get_model_complexity_info(model, res, backend='pytorch'): forward hooks on modules "
    "(ptflops/pytorch_ops.py MODULES_MAPPING) plus patched torch.nn.functional calls "
    "(FUNCTIONAL_MAPPING) and torch.add/mul/matmul; reports MACs",
    {
        "nn.Conv2d": ("macs + bias", "conv_flops_counter_hook: bias adds 1 per output element"),
        "nn.Linear": ("macs + bias", "linear_flops_counter_hook: bias adds 1 per output"),
        "nn.BatchNorm2d": ("2 input", "bn_flops_counter_hook: 2 per element when affine"),
        "nn.ReLU": ("output + input", "relu hook, and nn.ReLU calls the patched F.relu: "
                                      "counted twice (bug)"),
        "nn.ReLU6": ("output", "relu hook; ReLU6 calls F.hardtanh, not patched: once"),
        "nn.MaxPool2d": ("2 input", "pool hook, and the patched F.max_pool2d: twice (bug)"),
        "nn.AvgPool2d": ("2 input", "pool hook, and the patched F.avg_pool2d: twice (bug)"),
        "nn.AdaptiveAvgPool2d": ("2 input", "pool hook, and the patched "
                                            "F.adaptive_avg_pool2d: twice (bug)"),
        "F.adaptive_avg_pool2d": ("input", "patched functional: 1 per input element"),
        "Tensor.mean": ("0", "not patched"),
        "nn.Sigmoid": ("0", "no hook (module treated as zero-op)"),
        "nn.Hardsigmoid": ("0", "no hook (zero-op)"),
        "nn.Hardswish": ("0", "no hook (zero-op)"),
        "nn.SiLU": ("input", "no module hook, but the patched F.silu: 1 per element"),
        "nn.LocalResponseNorm": ("3 input + padded", "no hook, but F.local_response_norm "
                                 "calls the patched Tensor.mul twice and Tensor.add (1 per "
                                 "element each) and F.avg_pool3d on the channel-padded map"),
        **{call: ("0", "operators (+, +=, *) are not the patched torch.add/mul: zero")
           for call in _ZERO_ELSEWHERE},
        **{call: ("input", "patched functional: 1 per input element")
           for call in ("F.relu", "F.relu6", "F.max_pool2d", "F.avg_pool2d", "F.silu")},
        **{call: ("0", "not patched") for call in ("F.hardswish", "F.hardsigmoid",
                                                   "torch.sigmoid")},
    },
    "all", "sum of parameters with requires_grad: BN scale and shift included")

PTFLOPS_ATEN = Tool(
    "ptflops-aten", "0.7.5",
    "get_model_complexity_info(model, res, backend='aten'): a TorchDispatchMode counting "
    "aten.convolution, addmm, mm, bmm only (ptflops/aten_ops.py ATEN_OPS_MAPPING)",
    {
        "nn.Conv2d": ("macs + bias", "aten.convolution: bias adds 1 per output element"),
        "nn.Linear": ("macs + bias", "aten.addmm: bias adds 1 per output"),
        "nn.LocalResponseNorm": ("0", "no conv or matmul inside"),
        **{call: ("0", "not in ATEN_OPS_MAPPING") for call in (
            "nn.BatchNorm2d", "nn.ReLU", "nn.ReLU6", "nn.Sigmoid", "nn.Hardsigmoid",
            "nn.Hardswish", "nn.SiLU", "nn.MaxPool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d",
            "F.adaptive_avg_pool2d", "Tensor.mean", *_ZERO_ELSEWHERE, *_FUNCTIONAL)},
    },
    "all", "sum of parameters with requires_grad: BN scale and shift included")

TORCHPROFILE = Tool(
    "torchprofile", "0.1.0",
    "profile_macs(model, x): traces with torch.jit and counts aten ops "
    "(torchprofile/handlers.py HANDLER_MAP); reports MACs and no parameter count",
    {
        "nn.Conv2d": ("macs", "aten::_convolution: output × Cin/g × K²; bias not counted"),
        "nn.Linear": ("macs", "aten::linear (as matmul): bias not counted"),
        "nn.BatchNorm2d": ("output", "aten::batch_norm, affine: 1 per output element"),
        "nn.AdaptiveAvgPool2d": ("output", "aten::adaptive_avg_pool2d: 1 per output element"),
        "F.adaptive_avg_pool2d": ("output", "the same aten op as the module"),
        "Tensor.mean": ("output", "aten::mean: 1 per output element"),
        "nn.AvgPool2d": ("output", "aten::avg_pool2d: 1 per output element"),
        "*": ("output", "aten::mul: 1 per output element"),
        "nn.MaxPool2d": ("0", "aten::max_pool2d: zero-cost op"),
        "nn.ReLU": ("0", "aten::relu_: zero-cost op"),
        "nn.ReLU6": ("0", "aten::hardtanh_: zero-cost op"),
        "nn.Sigmoid": ("0", "aten::sigmoid: zero-cost op"),
        "nn.SiLU": ("0", "aten::silu_: zero-cost op"),
        "nn.Hardsigmoid": ("0", "aten::hardsigmoid: no handler, skipped (a warning)"),
        "nn.Hardswish": ("0", "aten::hardswish_: no handler, skipped (a warning)"),
        "nn.LocalResponseNorm": ("3 output", "F.local_response_norm: two aten::mul and an "
                                             "aten::avg_pool3d, 1 per element each"),
        **{call: ("0", "aten::add/add_/cat/view/chunk/dropout: zero-cost ops")
           for call in _ZERO_ELSEWHERE if call != "*"},
        "F.avg_pool2d": ("output", "aten::avg_pool2d: 1 per output element"),
        **{call: ("0", "as the module's aten op: zero-cost or no handler")
           for call in _FUNCTIONAL if call != "F.avg_pool2d"},
    },
    "all", "torchprofile reports no parameters; shown: sum of model.parameters()")

CALFLOPS = Tool(
    "calflops", "0.3.2",
    "calculate_flops(model, input_shape): patched torch.nn.functional calls and "
    "torch.matmul/addmm/mul/add (calflops/pytorch_ops.py); its MACs count conv and linear "
    "only (every other op adds FLOPs, not MACs)",
    {
        "nn.Conv2d": ("macs", "F.conv2d: output × Cin/g × K² MACs; bias only in its FLOPs"),
        "nn.Linear": ("macs", "F.linear: input × out features MACs; bias not counted"),
        **{call: ("0", "FLOPs only, no MACs") for call in (
            "nn.BatchNorm2d", "nn.ReLU", "nn.ReLU6", "nn.SiLU", "nn.MaxPool2d", "nn.AvgPool2d",
            "nn.AdaptiveAvgPool2d", "F.adaptive_avg_pool2d", "nn.LocalResponseNorm")},
        **{call: ("0", "not patched") for call in (
            "nn.Sigmoid", "nn.Hardsigmoid", "nn.Hardswish", "Tensor.mean", *_ZERO_ELSEWHERE)},
        **{call: ("0", "FLOPs only, or not patched: no MACs") for call in _FUNCTIONAL},
    },
    "all", "sum of parameters with requires_grad: BN scale and shift included")

TOOLS: tuple[Tool, ...] = (FVCORE, THOP, PTFLOPS, PTFLOPS_ATEN, TORCHPROFILE, CALFLOPS)

CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (
        Convention(
            "paper",
            "MACs: conv and FC multiply-accumulates only (bias, BN, activation, pooling, add "
            "not counted), as the papers count; params: conv/FC weights and biases, BN folded "
            "away",
            macs=lambda c: c.macs,
            params=lambda c: c.weights,
        ),
        Convention(
            "torch",
            "MACs: conv and FC multiply-accumulates only, as torch's FlopCounterMode (its "
            "FLOPs / 2); params: as PyTorch's sum(p.numel() for p in model.parameters()), BN "
            "scale and shift included",
            macs=lambda c: c.macs,
            params=lambda c: c.weights + c.norm_params,
        ),
        *(Convention(tool.name, f"{tool.name} {tool.version}'s own count, layer by layer as "
                                f"PyTorch writes it (`costmodel explain` shows the rules)",
                     tool=tool) for tool in TOOLS),
    )
}

DEFAULT = "paper"


def convention(name: str) -> Convention:
    """The convention called ``name``; an unknown name is a user error listing the known."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CostModelError(f"unknown convention {name!r}; choose one of: "
                             f"{', '.join(CONVENTIONS)}") from None


# --- applying a rule to a layer -------------------------------------------------------------

def rule_of(conv: Convention, layer: "Layer") -> tuple[str | None, str]:
    call = call_of(layer)
    try:
        return conv.tool.macs[call]
    except KeyError:
        raise CostModelError(f"convention {conv.name}: no rule for {call} (layer "
                             f"{layer.name}, op {layer.op})") from None


def quantities(layer: "Layer") -> dict[str, Any]:
    """The quantities a rule can count, for one layer."""
    from sympy import Integer

    attrs = dict(layer.attrs)
    biased = layer.op in ("conv", "dw", "pw", "fc") and bool(attrs.get("bias", layer.op == "fc"))
    x = layer.inputs[0] if layer.inputs else None
    padded = (x.c + attrs.get("size", 5) - 1) * x.h * x.w if layer.op == "lrn" else Integer(0)
    return {"macs": layer.counts.macs,
            "bias": layer.output.numel if biased else Integer(0),
            "input": x.numel if x is not None else Integer(0),
            "output": layer.output.numel,
            "padded": padded}


def parse_rule(rule: str) -> tuple[tuple[int, str], ...]:
    """``"2 input + output"`` -> ((2, "input"), (1, "output")); ``"0"`` -> ()."""
    terms = []
    for term in (t.strip() for t in rule.split("+")):
        if term == "0":
            continue
        count, _, quantity = term.rpartition(" ")
        terms.append((int(count) if count else 1, quantity))
    return tuple(terms)


def apply_rule(conv: Convention, layer: "Layer") -> "Expr":
    from sympy import Add, Integer

    rule, _why = rule_of(conv, layer)
    if rule is None:
        raise CostModelError(f"convention {conv.name}: {layer.op} layers ({layer.name}) are "
                             f"not modelled for {conv.tool.name} {conv.tool.version}")
    values = quantities(layer)
    return Add(Integer(0), *(count * values[quantity] for count, quantity in parse_rule(rule)))
