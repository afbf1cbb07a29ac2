"""Parameters as ``count_torch`` counts them: as ``parameters()`` holds them, each once.

A layer counts the parameters of the module that computes it, or those a functional call
reads (``F.layer_norm(x, shape, self.weight, self.bias)``, a layer scale ``gamma * x``): a
module called twice, or a weight read by two calls, is counted at its first layer only
(:func:`once`). Parameters no layer reads, of modules the forward pass never calls
(GoogLeNet's and Inception v3's auxiliary heads in eval mode) or read by a call costmodel
does not count (a relative-position table indexed inside attention), are counted by
``parameter`` layers, one per module that holds them, with a warning naming them
(:func:`held_layers`): the count of parameters is always ``sum(p.numel() for p in
module.parameters())``.

Attention is measured decomposed (:func:`decomposed_attention`): with gradients enabled
``nn.MultiheadAttention`` takes its unfused path, and scaled-dot-product attention on SDPA's
math backend runs as the matmuls torch's FlopCounterMode counts; in eval mode and under
``no_grad()`` torch takes fused paths (``_native_multi_head_attention``, CPU flash
attention) whose attention FlopCounterMode does not see (:func:`attention_warning`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import replace

import torch
from sympy import Integer
from torch import nn

from ..core.network import Layer
from ..core.ops import Counts, Shape, apply
from ..core.warnings import CostWarning
from ..safe_io import printable

#: the ops whose MACs include attention's matmuls
ATTENTION_OPS = ("mhsa", "sdpa", "mqa", "matmul")


def sizes(module: nn.Module) -> dict[str, int]:
    """Every parameter of ``module`` by qualified name, with its number of elements (a
    parameter registered under two names, once: ``named_parameters`` gives it once)."""
    return {name: p.numel() for name, p in module.named_parameters()}


def once(counts: Counts, names: tuple[str, ...], known: Mapping[str, int],
         claimed: set[str]) -> Counts:
    """``counts`` of a layer reading the parameters ``names``, less those an earlier layer
    counted; the rest are claimed for this one. Weights first, then batch-norm parameters
    (the order a layer's formula counts them in makes no difference: a module's are all
    counted or all not)."""
    again = sum(known.get(name, 0) for name in names if name in claimed)
    claimed.update(name for name in names if name in known)
    if not again:
        return counts
    weights = min(counts.weights, Integer(again))
    norm = min(counts.norm_params, Integer(again) - weights)
    return replace(counts, weights=counts.weights - weights,
                   norm_params=counts.norm_params - norm)


def held_layers(module: nn.Module, claimed: set[str], source: Shape,
                used: set[str]) -> tuple[list[Layer], list[CostWarning]]:
    """``parameter`` layers for the parameters of ``module`` no layer counted, one per
    submodule that holds them (named after it), reading ``source`` (the input) and passing
    it through; a warning names the submodules never called (none of whose parameters any
    layer read) and another those read by calls not counted."""
    held: dict[str, int] = {}
    for name, tensor in module.named_parameters():
        if name not in claimed:
            owner = _owner(name, claimed)
            held[owner] = held.get(owner, 0) + tensor.numel()
    layers, untouched, read = [], [], []
    for owner, elements in held.items():
        if elements == 0:
            continue
        layer_name = printable(f"{owner}.params" if owner in used else owner, 200)
        result = apply("parameter", [source], {"elements": Integer(elements)})
        layers.append(Layer(layer_name, "parameter", result.kind,
                            (("elements", Integer(elements)),), (source,),
                            replace(result.shape, producer=layer_name), result.counts))
        touched = any(name.startswith(f"{owner}.") for name in claimed)
        (read if touched else untouched).append(layer_name)
    warnings = []
    if untouched:
        warnings.append(CostWarning("not_called", "parameters", len(untouched), (
            f"parameters of modules this forward pass never reads ({_listed(untouched)}: not "
            "called, as auxiliary heads in eval mode, or read only by calls not counted) are "
            "counted as parameter layers, as parameters() holds them; their MACs are not"),
            tuple(untouched)))
    if read:
        warnings.append(CostWarning("not_called", "parameters", len(read), (
            f"parameters of {_listed(read)} that no counted call reads are counted as "
            "parameter layers"), tuple(read)))
    return layers, warnings


def _owner(name: str, claimed: set[str]) -> str:
    """The outermost module holding parameter ``name`` none of whose parameters a layer
    counts (``AuxLogits`` for ``AuxLogits.conv0.conv.weight``), else the module that holds
    it, else the parameter itself (one of the root module's own)."""
    parts = name.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        if not any(c.startswith(prefix + ".") for c in claimed):
            return prefix
    return ".".join(parts[:-1]) or name


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


@contextlib.contextmanager
def decomposed_attention() -> Iterator[None]:
    """Gradients on (nn.MultiheadAttention's unfused path) and SDPA's math backend (its
    matmuls): attention as FlopCounterMode can count it."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH):
        yield


def attention_warning(layers) -> list[CostWarning]:
    """A warning when the network attends: its MACs count attention's matmuls, which torch's
    FlopCounterMode misses in eval mode under no_grad()."""
    names = tuple(layer.name for layer in layers if layer.op in ("mhsa", "sdpa", "mqa"))
    if not names:
        return []
    return [CostWarning("fused_attention", "attention", len(names), (
        "attention is counted as its matmuls (q·kᵀ and the weights times v), as torch's "
        "FlopCounterMode counts them with gradients enabled and SDPA's math backend; in "
        "eval mode under no_grad() torch runs nn.MultiheadAttention fused and CPU attention "
        "as flash attention, whose matmuls FlopCounterMode does not see, so its own figure "
        "for this model is lower"), names)]
