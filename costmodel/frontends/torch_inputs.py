"""The inputs a traced module runs on: one or several, of any rank from 2 to MAX_INPUT_RANK.

``count_torch(module, (1, 3, 224, 224))`` traces ``module(x)`` on one input;
``count_torch(module, [(1, 3, 224, 224), (1, 77)])`` (a list or tuple of shapes) traces
``module(x, y)``. A shape is a tuple of whole numbers whose first is the batch N, the same
for every input (counts are per sample). Inputs are float tensors: a forward that needs
integer ids (``nn.Embedding``) fails with a message saying so.

The network's first input is the Shape whose producer is ``input``, as it always was
(``Network.input``); the others are ``input2``, ``input3``... (``Network.extra_inputs``):
a layer reading one names it in ``Layer.sources``, as it names a layer.

A 3-D input is read as N×C×L (what ``nn.Conv1d`` reads); when a call cannot read it so
(``nn.Linear``, ``nn.LayerNorm`` or attention over N×L×D tokens) it is read again as tokens
(:func:`retry_as_tokens`): an input is no layer's output, so either reading is the tensor.

``nn.MultiheadAttention`` called with a key or value other than its query (cross-attention)
is counted as the calls it makes (:func:`cross_attention`): the q, k, v projections, the
attention's two matmuls and the output projection, each a layer of an op costmodel has.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from sympy import Integer
from torch import nn

from ..core.ops import Shape
from ..errors import CostModelError
from ..limits import MAX_INPUT_RANK, MAX_INPUTS, MAX_NUMBER
from ..safe_io import printable
from . import torch_tokens as tokens
from .torch_rules import Emit, Unsupported, Value

FLOAT_ONLY = ("costmodel runs a module on float inputs only: a forward that takes integer "
              "ids (nn.Embedding's token ids) is not counted")
_USAGE = ("input_shape is one shape, a tuple of whole numbers such as (1, 3, 224, 224), or "
          "several, a list or tuple of shapes such as [(1, 3, 224, 224), (1, 77)]")


def input_name(index: int) -> str:
    """The producer name of input ``index`` (from 0): ``input``, ``input2``, ``input3``..."""
    return "input" if index == 0 else f"input{index + 1}"


def shown(sizes: Sequence[Sequence[int]]) -> str:
    """``1×3×224×224, 1×77``: the inputs as messages and the network's config show them."""
    return ", ".join("×".join(map(str, size)) for size in sizes)


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def input_sizes(input_shape: Any) -> tuple[tuple[int, ...], ...]:
    """``input_shape`` (one shape, or a list or tuple of shapes) as a tuple of shapes, each
    checked: rank 2 to MAX_INPUT_RANK, positive sizes, one batch N for all."""
    import torch

    def size_of(value: Any) -> tuple[int, ...] | None:
        if isinstance(value, torch.Size):
            value = tuple(value)
        if isinstance(value, (tuple, list)) and value and all(_is_size(v) for v in value):
            return tuple(value)
        return None

    one = size_of(input_shape)
    if one is not None:
        sizes = (one,)
    elif isinstance(input_shape, (tuple, list)) and input_shape and \
            all(size_of(v) is not None for v in input_shape):
        sizes = tuple(size_of(v) for v in input_shape)
    else:
        raise CostModelError(f"{_USAGE}; got {printable(repr(input_shape), 80)}")
    if len(sizes) > MAX_INPUTS:
        raise CostModelError(f"{len(sizes)} inputs is past MAX_INPUTS ({MAX_INPUTS})")
    for size in sizes:
        if not 2 <= len(size) <= MAX_INPUT_RANK or min(size) < 1 or \
                max(size) >= MAX_NUMBER:
            raise CostModelError(
                f"an input shape is N followed by 1 to {MAX_INPUT_RANK - 1} positive sizes "
                f"(N,C,H,W for an image, N,C,L or N,L,D for a sequence, N,F for features), "
                f"got {printable(','.join(map(str, size)), 80)}")
    if len({size[0] for size in sizes}) > 1:
        raise CostModelError(f"every input's first size is the batch N, the same for all "
                             f"(counts are per sample); got {shown(sizes)}")
    return sizes


def check_arity(module: nn.Module, count: int, name: str) -> None:
    """A forward that cannot take ``count`` positional inputs is a clear error before any
    trace: it names the forward's parameters."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):  # a forward with no signature to read: let torch say
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    takes_more = any(p.kind == p.VAR_POSITIONAL for p in params)
    if len(required) <= count and (takes_more or count <= len(positional)):
        return
    names = ", ".join(printable(p.name, 40) for p in positional[:8])
    wanted = (f"{len(required)}" if len(required) == len(positional) else
              f"{len(required)} to {len(positional)}")
    raise CostModelError(f"{name}.forward({names}) takes {wanted} inputs; {count} "
                         f"{'was' if count == 1 else 'were'} given (one shape each: --input "
                         "repeated, or a list of shapes in Python)")


def value_of(size: tuple[int, ...], producer: str) -> Value:
    """An input of torch ``size`` as a Value: channels first up to five axes (the reading
    convolutions take), tokens (the last layout) beyond."""
    if len(size) == 2:
        shape = Shape.image(Integer(size[1]), Integer(1), Integer(1), producer=producer)
    elif len(size) <= 5:
        shape = Shape(Integer(size[1]), tuple(Integer(s) for s in size[2:]), producer=producer)
    else:
        shape = tokens.as_last(size, producer)
    return Value(shape, tuple(size))


def _as_tokens(value: Any, inputs: set[str]) -> Any:
    """An input read channels first, read again as tokens; anything else as it is."""
    if isinstance(value, Value) and value.shape is not None and len(value.size) >= 3 \
            and not tokens.is_last(value) and value.shape.producer in inputs:
        return tokens.last_view(value)
    return value


def beside_tokens(args: tuple, inputs: set[str]) -> tuple:
    """``args`` with its channels-first inputs read as tokens where another argument is
    tokens (``attn(q, kv, kv)[0] + q``: the query input beside the attention's output)."""
    if not any(tokens.is_last(a) for a in args):
        return args
    return tuple(_as_tokens(a, inputs) for a in args)


def retry_as_tokens(result: Any, call: Callable[..., Any], args: tuple, inputs: set[str]
                    ) -> tuple[Any, tuple]:
    """A rule's answer, and the arguments it read: where it could not read an input as
    channels first, its answer on that input read as tokens, if that one counts."""
    if not isinstance(result, Unsupported):
        return result, args
    again = tuple(_as_tokens(a, inputs) for a in args)
    if all(a is b for a, b in zip(again, args)):
        return result, args
    try:
        retried = call(*again)
    except (TypeError, ValueError, IndexError, AttributeError):
        return result, args
    return (retried, again) if isinstance(retried, Emit) else (result, args)


# --- cross-attention ---------------------------------------------------------------------------

def attention_operands(args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """nn.MultiheadAttention's query, key and value, however the call passes them."""
    named = ("query", "key", "value")
    given = list(args[:3]) + [None] * (3 - len(args[:3]))
    for i, word in enumerate(named):
        if word in kwargs:
            given[i] = kwargs[word]
    return tuple(given)


def is_cross(m: nn.Module, args: tuple, kwargs: dict) -> bool:
    """Whether this is a call of nn.MultiheadAttention whose key or value is not its query."""
    if not isinstance(m, nn.MultiheadAttention):
        return False
    query, key, value = attention_operands(args, kwargs)
    return isinstance(query, Value) and not (key is query and value is query)


def cross_attention(recorder: Any, m: nn.MultiheadAttention, name: str, args: tuple,
                    kwargs: dict, out_size: tuple[int, ...]) -> Value | None:
    """``m(query, key, value)`` as five layers (``name.q_proj``, ``.k_proj``, ``.v_proj``,
    ``.attention``, ``.out_proj``): the projections are ``linear`` layers, the attention an
    ``sdpa`` over the heads. MACs = Lq·E² + Lk·kdim·E + Lk·vdim·E + 2·Lq·Lk·E + Lq·E², what
    ``F.multi_head_attention_forward`` computes; the layers' weights and biases are the
    module's parameters (E² + kdim·E + vdim·E + E², and 4·E with biases), each counted once
    however often the module is called."""
    query, key, value = (_as_tokens(v, {v.shape.producer}) if isinstance(v, Value) and
                         v.shape is not None else v for v in attention_operands(args, kwargs))
    call = "nn.MultiheadAttention"
    if not m.batch_first or not all(tokens.is_last(v) and len(v.size) == 3
                                    for v in (query, key, value)):
        return recorder.miss(name, call, "cross-attention other than batch_first=True over "
                             "N×L×D tokens", out_size)
    width, heads = m.embed_dim, m.num_heads
    batch, per_head = query.size[0], width // heads
    names = tuple(f"{name}.{n}" for n, _ in m.named_parameters())
    again = any(n in recorder.claimed for n in names)  # called before: its weights are counted
    reads = names if again else ()
    bias = m.in_proj_bias is not None

    def linear(x: Value, part: str, out: int, has_bias: bool) -> Value | None:
        emit = Emit("linear", (x,), {"c": out} if has_bias else {"c": out, "bias": 0})
        return recorder.emit(emit, f"{name}.{part}", "F.linear", (*x.size[:-1], out), reads)

    q = linear(query, "q_proj", width, bias)
    k = linear(key, "k_proj", width, bias)
    v = linear(value, "v_proj", width, bias)
    if q is None or k is None or v is None:
        return None

    def split(x: Value) -> Value:  # N×L×E as N×heads×L×E/heads: a view, no layer
        size = (batch, heads, x.size[1], per_head)
        return Value(tokens.as_last(size, x.shape.producer), size)

    size = (batch, heads, query.size[1], per_head)
    attended = recorder.emit(Emit("sdpa", (split(q), split(k), split(v))), f"{name}.attention",
                             "F.scaled_dot_product_attention", size, reads)
    if attended is None:
        return None
    merged = (batch, query.size[1], width)
    joined = Value(tokens.as_last(merged, attended.shape.producer), merged)
    out = linear(joined, "out_proj", m.out_proj.out_features, m.out_proj.bias is not None)
    recorder.claimed.update(n for n in names if n in recorder.parameters)
    return out
