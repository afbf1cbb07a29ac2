"""How torchvision writes each layer, where it differs from the op's default PyTorch call, and
how a traced call is named for the tool conventions.

Counters built on forward hooks (thop, ptflops) see modules, not functional calls or
operators, and the tracing ones see the aten op a call lowers to; so what they report depends
on how a network is written, not only on what it computes. A layer carries its call
(``Layer.call``; empty means its op's default, ``OpDef.torch.call``, the way ``to_torch``
writes it), and the tool conventions (:mod:`~costmodel.core.conventions`) look their rules up
by the op's category and the call.

Zoo models whose reference is torchvision's code record where torchvision writes an op
differently from the default (:data:`REFERENCE_CALLS`); the zoo applies them when it builds
such a model. Front ends that trace a module set each layer's call from what they saw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .conventions import call_of  # noqa: F401  (where it was; the conventions own it)
from .opdef import category_of

#: how torch.fx names the operators (``_operator.add``...), as the rules name them
TRACED_NAMES = {"operator.add": "+", "operator.iadd": "+=", "operator.mul": "*",
                "operator.imul": "*", "torch.mean": "Tensor.mean", "operator.matmul": "@"}

#: Ops of these categories cost nothing in any tool however they are written
#: (``view``/``transpose``, ``chunk``/``narrow``, ``cat``, dropout): a traced layer of one
#: keeps its op's default call.
_ANY_SPELLING = ("data movement", "free view")


def traced_call(name: str, op: str) -> str:
    """A front end's name for a traced call (``nn.Conv2d``, ``F.relu``, ``operator.add``) as
    the tool rules name it: what a tracing front end stores in ``Layer.call``."""
    if category_of(op) in _ANY_SPELLING:
        return ""
    if name.startswith("torch._C._nn."):  # F.linear, F.scaled_dot_product_attention are C's
        name = "F." + name.removeprefix("torch._C._nn.")
    return TRACED_NAMES.get(name, name)


@dataclass(frozen=True)
class Reference:
    """Where a zoo model's reference implementation writes ops differently from
    its op's default call, under the knob values in ``when``: ``calls`` maps an op to the
    call used for every layer of that op; ``shared`` = (op, depth): the layers of that op
    whose names have more than ``depth`` parts share one module, ``<first depth parts>.<op>``
    (no count depends on it: the hooks count every call and those modules hold no
    parameters; ``to_torch`` builds it so)."""

    source: str
    calls: tuple[tuple[str, str], ...]
    when: tuple[tuple[str, Any], ...] = ()
    shared: tuple[str, int] | None = None


_RESNET = Reference(
    "torchvision/models/resnet.py: BasicBlock/Bottleneck.forward (out += identity; one "
    "self.relu serves the block's convolutions and the add)",
    (("add", "+="),), shared=("relu", 2))

#: zoo model -> how torchvision writes it, where that differs from the op's default call
REFERENCE_CALLS: dict[str, Reference] = {
    "mobilenet_v2": Reference(
        "torchvision/models/mobilenetv2.py: MobileNetV2._forward_impl "
        "(nn.functional.adaptive_avg_pool2d(x, (1, 1)))",
        (("gap", "F.adaptive_avg_pool2d"),)),
    "mobilenet_v3_large": Reference(
        "torchvision/models/mobilenetv3.py: InvertedResidual.forward (result += input)",
        (("add", "+="),)),
    "mobilenet_v3_small": Reference(
        "torchvision/models/mobilenetv3.py: InvertedResidual.forward (result += input)",
        (("add", "+="),)),
    "shufflenet_v2": Reference(
        "torchvision/models/shufflenetv2.py: ShuffleNetV2._forward_impl (x.mean([2, 3]))",
        (("gap", "Tensor.mean"),), when=(("impl", "torchvision"),)),
    **dict.fromkeys(("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                     "resnext50_32x4d"), _RESNET),
}


def with_reference_calls(network: Any, model: str) -> Any:
    """``network`` (a Network of zoo model ``model``) with its reference implementation's
    calls."""
    reference = REFERENCE_CALLS.get(model)
    settings = dict(network.config)
    if reference is None or any(str(settings.get(k)) != str(v) for k, v in reference.when):
        return network
    calls = dict(reference.calls)
    op, depth = reference.shared or ("", 0)
    layers = []
    for layer in network.layers:
        if layer.op in calls:
            layer = replace(layer, call=calls[layer.op])
        parts = layer.name.split(".")
        if layer.op == op and len(parts) > depth:
            layer = replace(layer, module=".".join(parts[:depth] + [op]))
        layers.append(layer)
    return replace(network, layers=tuple(layers))
