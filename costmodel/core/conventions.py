"""Counting conventions: which raw counts a reported MAC or parameter number includes.

Counters disagree mostly because each silently picks a convention. costmodel names them, and
every output states the one in use. ``paper`` and ``torch`` need only the raw totals
(:class:`~costmodel.core.ops.Counts`). The others reproduce a counting tool exactly, layer by
layer, from the op's category (:data:`~costmodel.core.opdef.CATEGORIES`) and the PyTorch call
that computes the layer (``Layer.call``, else the op's default): a tool is a rule for every
category plus the named exceptions it really has, by op (however it is written) and by call
(hook-based tools see modules, not functional calls), each read from the tool's source at the
version named. The most specific wins: a call's rule, else the op's, else the category's.

A rule is a sum of terms over these quantities of the layer:

* ``macs``: the conv/FC multiply-accumulates (the paper convention's count);
* ``bias``: the output elements of a layer that has a bias (0 without one);
* ``input`` / ``output``: the elements of the layer's (first) input / output tensor;
* a quantity the op defines (``quantities=`` in its definition), e.g. ``padded`` for a local
  response norm of size n: the (C + n − 1)·H·W elements of the channel-padded map that
  ``F.local_response_norm`` pools (0 for the ops that do not define it);

e.g. ``"2 input"`` is 2 per input element, ``"macs + bias"`` the MACs plus one per biased
output element, ``"0"`` nothing. ``None`` marks a rule that is not modelled: applying the
convention to such a layer is an error naming it. Everything counts one image (batch 1),
eval mode. MACs: 1 MAC = 2 FLOPs; the tools' "FLOPs" here are their own MAC-like counts,
reported as they print them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CostModelError
from .categories import CATEGORIES
from .conventions_modern import EXCEPTIONS, THOP_HOOKED

if TYPE_CHECKING:  # sympy is imported by the code that counts, not by `costmodel --help`
    from sympy import Expr

    from .ops import Counts

Rule = tuple[str | None, str]  # (rule, why)


def parse_rule(rule: str) -> tuple[tuple[int, str], ...]:
    """``"2 input + output"`` -> ((2, "input"), (1, "output")); ``"0"`` -> ()."""
    terms = []
    for term in (t.strip() for t in rule.split("+")):
        if term == "0":
            continue
        count, _, quantity = term.rpartition(" ")
        if count and not count.isdigit() or not quantity.isidentifier():
            raise CostModelError(f"rule {rule!r}: a term is '<count> <quantity>', got {term!r}")
        terms.append((int(count) if count else 1, quantity))
    return tuple(terms)


def call_of(layer: Any) -> str:
    """The PyTorch call that computes ``layer`` (a Layer): its own record, else its op's
    default as ``to_torch`` writes it, for the rank of its input: a default ``nn.Conv2d``
    over a video clip is ``nn.Conv3d``, ``F.adaptive_avg_pool2d`` over a sequence is
    ``F.adaptive_avg_pool1d`` (tools name these apart: fvcore counts only the 2-D adaptive
    pool)."""
    from .opdef import call_for_rank, definition_of  # the registry imports sympy: not for
    # `costmodel --help`

    if layer.call:
        return layer.call
    return call_for_rank(definition_of(layer.op).torch.call,
                         layer.inputs[0].rank if layer.inputs else 2)


@dataclass(frozen=True)
class Tool:
    """A counting tool's rules: ``categories`` maps every op category to (rule, why);
    ``ops`` and ``calls`` are the tool's named exceptions, by op name (however the op is
    written) and by PyTorch call. ``params`` says which parameters it reports ("all":
    ``model.parameters()``, BN scale and shift included; "hooked": only those of the module
    types in ``hooked``, which it has a rule for)."""

    name: str
    version: str
    how: str
    categories: Mapping[str, Rule]
    ops: Mapping[str, Rule] = field(default_factory=dict)
    calls: Mapping[str, Rule] = field(default_factory=dict)
    params: str = "all"
    params_note: str = ""
    hooked: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        missing = [c for c in CATEGORIES if c not in self.categories]
        extra = [c for c in self.categories if c not in CATEGORIES]
        if missing or extra:
            raise CostModelError(f"tool {self.name}: no rule for category "
                                 f"{(missing or extra)[0]!r}" if missing else
                                 f"tool {self.name}: unknown category {extra[0]!r}")
        for rule, _why in (*self.categories.values(), *self.ops.values(),
                           *self.calls.values()):
            if rule is not None:
                parse_rule(rule)

    def unknown_names(self) -> list[str]:
        """The named exceptions that name no registered op or call (tests check there are
        none; not checked on construction, which would import the registry)."""
        from . import ops  # registers the built-in ops

        calls = {call for d in ops.OPS.values() for call in d.torch.calls}
        return [f"op {name}" for name in self.ops if name not in ops.OPS] + \
            [call for call in (*self.calls, *self.hooked) if call not in calls]

    def rule(self, op: str, call: str) -> Rule:
        """The rule for a layer of ``op`` written as ``call``: the call's exception, else
        the op's, else the op's category's."""
        if call in self.calls:
            return self.calls[call]
        if op in self.ops:
            return self.ops[op]
        from .opdef import category_of

        return self.categories[category_of(op)]


@dataclass(frozen=True)
class Convention:
    """How to turn a network's layers into reported MACs and params: from the summed raw
    :class:`~costmodel.core.ops.Counts` (``macs``/``params``), or per layer by a tool's
    rules (``tool``)."""

    name: str
    description: str
    macs: Callable[["Counts"], "Expr"] | None = None
    params: Callable[["Counts"], "Expr"] | None = None
    tool: Tool | None = field(default=None)

    def layer_macs(self, layer: Any) -> "Expr":
        if self.tool is None:
            return self.macs(layer.counts)
        return apply_rule(self, layer)

    def layer_params(self, layer: Any) -> "Expr":
        if self.tool is None:
            return self.params(layer.counts)
        params = layer.counts.weights + layer.counts.norm_params
        if self.tool.params == "hooked" and call_of(layer) not in self.tool.hooked:
            return params * 0  # thop: a module without a rule reports no parameters
        return params


# --- the tools' rules -----------------------------------------------------------------------

def _zero(why: str) -> Rule:
    return ("0", why)


FVCORE = Tool(
    "fvcore", "0.1.5 (0.1.5.post20221221)",
    "FlopCountAnalysis(model, x).total(): traces with torch.jit and counts aten ops "
    "(fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS, jit_handles.py); one MAC = one flop",
    categories={
        "multiply-accumulate": ("macs", "aten::_convolution: output × Cin/g × K²; "
                                        "aten::linear: input × out features; bias not counted"),
        "normalization": ("2 input", "aten::batch_norm, eval and affine: 2 per element"),
        "activation": _zero("aten::relu_ is in fvcore's ignore list; hardtanh_, sigmoid, "
                            "hardsigmoid, hardswish_, silu_... are unsupported, skipped"),
        "pooling": _zero("aten::max_pool2d, avg_pool2d, mean: unsupported, skipped "
                         "(a warning)"),
        "element-wise": _zero("aten::add/add_/mul: not counted"),
        "data movement": _zero("aten::cat/view/chunk: not counted"),
        "free view": _zero("aten::dropout: not counted"),
    },
    ops={"lrn": _zero("F.local_response_norm's aten::mul, avg_pool3d, pow, div: all "
                      "unsupported, skipped")},
    calls={call: ("input", "aten::adaptive_avg_pool2d: 1 per input element")
           for call in ("nn.AdaptiveAvgPool2d", "F.adaptive_avg_pool2d")},
    params="all", params_note="parameter_count(model)[\"\"]: every parameter, BN scale and "
                              "shift included")

THOP = Tool(
    "thop", "0.1.1 (thop-0.1.1.post2209072238)",
    "profile(model, inputs): forward hooks on modules by type (thop/profile.py "
    "register_hooks, vision/basic_hooks.py, vision/calc_func.py); functional calls and "
    "operators are not seen; reports MACs",
    categories={
        "multiply-accumulate": ("macs", "count_convNd: output × Cin/g × K²; count_linear: "
                                        "in_features × output elements; bias not counted"),
        "normalization": ("4 input", "count_normalization: calculate_norm's 2 per element, "
                                     "doubled again when affine (quirk: 4 per element)"),
        "activation": _zero("zero_ops (ReLU, ReLU6) or no rule: zero"),
        "pooling": _zero("zero_ops (MaxPool2d); a functional call or tensor method: no hook"),
        "element-wise": _zero("an operator: no hook"),
        "data movement": _zero("an operator or no-op module: zero"),
        "free view": _zero("zero_ops"),
    },
    ops={"lrn": _zero("no rule for nn.LocalResponseNorm: zero")},
    calls={**{f"nn.AdaptiveAvgPool{rank}d": ("input + output", "count_adap_avgpool: (kernel + "
                                                              "1) per output element; float, "
                                                              "exact when the output divides "
                                                              "the input")
              for rank in (1, 2, 3)},
           **{f"nn.AvgPool{rank}d": ("output", "count_avgpool: 1 per output element")
              for rank in (1, 2, 3)}},
    params="hooked",
    params_note="only modules with a rule report their parameters() (a reused module once; "
                "the root module's own never: dfs_count sums its children)",
    # thop/profile.py register_hooks: every rank of each module family it has a rule for
    hooked=frozenset({"nn.Linear", "nn.ReLU", "nn.ReLU6", "nn.Dropout",
                      *(f"nn.{family}{rank}d" for rank in (1, 2, 3)
                        for family in ("Conv", "BatchNorm", "AdaptiveAvgPool", "AvgPool",
                                       "MaxPool"))}))

PTFLOPS = Tool(
    "ptflops", "0.7.5",
    "get_model_complexity_info(model, res, backend='pytorch'): forward hooks on modules "
    "(ptflops/pytorch_ops.py MODULES_MAPPING) plus patched torch.nn.functional calls "
    "(FUNCTIONAL_MAPPING) and torch.add/mul/matmul; reports MACs",
    categories={
        "multiply-accumulate": ("macs + bias", "conv_flops_counter_hook, "
                                               "linear_flops_counter_hook: bias adds 1 per "
                                               "output element"),
        "normalization": ("2 input", "bn_flops_counter_hook: 2 per element when affine"),
        "activation": _zero("no hook (module treated as zero-op), or a functional call not "
                            "patched (F.hardswish, F.hardsigmoid, torch.sigmoid)"),
        "pooling": ("2 input", "pool hook, and the module calls the patched F.*pool2d: twice "
                               "(bug)"),
        "element-wise": _zero("operators (+, +=, *) are not the patched torch.add/mul: zero"),
        "data movement": _zero("no hook: zero"),
        "free view": _zero("no-op module: zero"),
    },
    ops={"lrn": ("3 input + padded", "no hook, but F.local_response_norm calls the patched "
                                     "Tensor.mul twice and Tensor.add (1 per element each) "
                                     "and F.avg_pool3d on the channel-padded map")},
    calls={
        "nn.ReLU": ("output + input", "relu hook, and nn.ReLU calls the patched F.relu: "
                                      "counted twice (bug)"),
        "nn.ReLU6": ("output", "relu hook; ReLU6 calls F.hardtanh, not patched: once"),
        "nn.SiLU": ("input", "no module hook, but the patched F.silu: 1 per element"),
        **{call: ("input", "patched functional: 1 per input element")
           for call in ("F.relu", "F.relu6", "F.silu", "F.max_pool2d", "F.avg_pool2d",
                        "F.adaptive_avg_pool2d")},
        "Tensor.mean": _zero("not patched"),
    },
    params="all", params_note="sum of parameters with requires_grad: BN scale and shift "
                              "included")

PTFLOPS_ATEN = Tool(
    "ptflops-aten", "0.7.5",
    "get_model_complexity_info(model, res, backend='aten'): a TorchDispatchMode counting "
    "aten.convolution, addmm, mm, bmm only (ptflops/aten_ops.py ATEN_OPS_MAPPING)",
    categories={
        "multiply-accumulate": ("macs + bias", "aten.convolution, aten.addmm: bias adds 1 per "
                                               "output element"),
        **{category: _zero("not in ATEN_OPS_MAPPING (no conv or matmul inside)")
           for category in CATEGORIES if category != "multiply-accumulate"},
    },
    params="all", params_note="sum of parameters with requires_grad: BN scale and shift "
                              "included")

TORCHPROFILE = Tool(
    "torchprofile", "0.1.0",
    "profile_macs(model, x): traces with torch.jit and counts aten ops "
    "(torchprofile/handlers.py HANDLER_MAP); reports MACs and no parameter count",
    categories={
        "multiply-accumulate": ("macs", "aten::_convolution: output × Cin/g × K²; "
                                        "aten::linear (as matmul); bias not counted"),
        "normalization": ("output", "aten::batch_norm, affine: 1 per output element"),
        "activation": _zero("aten::relu_, hardtanh_, sigmoid, silu_: zero-cost ops; "
                            "hardsigmoid, hardswish_: no handler, skipped (a warning)"),
        "pooling": ("output", "aten::avg_pool2d, adaptive_avg_pool2d, mean: 1 per output "
                              "element"),
        "element-wise": _zero("aten::add/add_: zero-cost ops"),
        "data movement": _zero("aten::cat/view/chunk: zero-cost ops"),
        "free view": _zero("aten::dropout: zero-cost op"),
    },
    ops={"maxpool": _zero("aten::max_pool2d: zero-cost op"),
         "mul": ("output", "aten::mul: 1 per output element"),
         "lrn": ("3 output", "F.local_response_norm: two aten::mul and an aten::avg_pool3d, "
                             "1 per element each")},
    params="all", params_note="torchprofile reports no parameters; shown: sum of "
                              "model.parameters()")

CALFLOPS = Tool(
    "calflops", "0.3.2",
    "calculate_flops(model, input_shape): patched torch.nn.functional calls and "
    "torch.matmul/addmm/mul/add (calflops/pytorch_ops.py); its MACs count conv and linear "
    "only (every other op adds FLOPs, not MACs)",
    categories={
        "multiply-accumulate": ("macs", "F.conv2d: output × Cin/g × K² MACs, bias only in "
                                        "its FLOPs; F.linear: input × out features MACs"),
        **{category: _zero("FLOPs only, or not patched: no MACs")
           for category in CATEGORIES if category != "multiply-accumulate"},
    },
    params="all", params_note="sum of parameters with requires_grad: BN scale and shift "
                              "included")

def _with_newer_ops(tool: Tool) -> Tool:
    """``tool`` with its rules for the newer ops (core/conventions_modern.py) merged in."""
    from dataclasses import replace

    ops, calls = EXCEPTIONS[tool.name]
    hooked = tool.hooked | THOP_HOOKED if tool.params == "hooked" else tool.hooked
    return replace(tool, ops={**tool.ops, **ops}, calls={**tool.calls, **calls},
                   hooked=hooked)


FVCORE, THOP, PTFLOPS, PTFLOPS_ATEN, TORCHPROFILE, CALFLOPS = (
    _with_newer_ops(tool) for tool in (FVCORE, THOP, PTFLOPS, PTFLOPS_ATEN, TORCHPROFILE,
                                       CALFLOPS))
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

def rule_of(conv: Convention, layer: Any) -> Rule:
    """The tool's (rule, why) for ``layer``; a call its op is never written as is an error
    naming it (no tool rule can be right for it)."""
    from .opdef import definition_of

    call = call_of(layer)
    if call not in definition_of(layer.op).torch.calls:
        raise CostModelError(f"convention {conv.name}: no rule for {call} (layer "
                             f"{layer.name}, op {layer.op})")
    return conv.tool.rule(layer.op, call)


def quantities(layer: Any) -> dict[str, Any]:
    """The quantities a rule can count, for one layer: those every layer has, and the ones
    its op defines (``quantities=`` in the op's definition; 0 where an op defines none)."""
    from sympy import Integer

    from .opdef import definition_of, with_defaults

    definition = definition_of(layer.op)
    attrs = with_defaults(layer.op, dict(layer.attrs))
    x = layer.inputs[0] if layer.inputs else None
    values = {"macs": layer.counts.macs,
              "bias": layer.output.numel if attrs.get("bias") else Integer(0),
              "input": x.numel if x is not None else Integer(0),
              "output": layer.output.numel}
    if definition.quantities is not None:
        values.update(definition.quantities(layer.inputs, attrs))
    return values


def apply_rule(conv: Convention, layer: Any) -> "Expr":
    from sympy import Add, Integer

    rule, _why = rule_of(conv, layer)
    if rule is None:
        raise CostModelError(f"convention {conv.name}: {layer.op} layers ({layer.name}) are "
                             f"not modelled for {conv.tool.name} {conv.tool.version}")
    values = quantities(layer)
    return Add(Integer(0), *(count * values.get(quantity, Integer(0))
                             for count, quantity in parse_rule(rule)))
