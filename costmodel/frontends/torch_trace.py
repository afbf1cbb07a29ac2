"""Module → Network: a user's ``nn.Module`` traced into the same Network a spec builds.

:func:`count_torch` traces with ``torch.fx`` (``symbolic_trace``, then ``ShapeProp`` on fake
tensors, so no arithmetic runs) and turns each call into a layer of a registered op by the
rules of :mod:`~costmodel.frontends.torch_rules`. Layers are named after the modules
(``features.3.conv.0``); a functional call takes the name of the module whose ``forward`` makes
it plus the op (``features.3.add1``). Every layer's inputs carry ``producer``, so
``Layer.sources`` gives the graph.

Nothing is dropped silently: a call no rule counts is a warning of the network
(:class:`~costmodel.core.warnings.CostWarning`, by call, count and layer names), and the whole
forward pass is also measured with torch's ``FlopCounterMode``; if its MACs (its FLOPs / 2,
per sample) or the module's parameter count differ from costmodel's, a warning says so. Every
command shows the warnings (on stderr, and in every format).

A module ``torch.fx`` cannot trace (Python control flow on tensor values, for one) is run once
with forward hooks on its leaf modules instead, on a random input drawn from a fixed seed (the
same count on every run; torch's global random state is left as it was); warnings say what
that loses and that the count follows the path that one input took.

Names from the module (its class names, its submodules' names) reach layers and warnings only
through :func:`costmodel.safe_io.printable`.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from sympy import Integer
from torch import fx, nn

from ..core import ops
from ..core.calls import traced_call
from ..core.network import Layer, Network, exact
from ..core.ops import Shape
from ..core.warnings import CostWarning
from ..errors import CostModelError
from ..limits import MAX_QUOTED_PATH_CHARS, MAX_TRACED_INPUT_ELEMENTS
from ..safe_io import printable
from . import torch_inputs, torch_params
from . import torch_rules as rules
from . import torch_rules_modern as modern
from . import torch_rules_tensors as tensors
from . import torch_rules_windows as windows
from . import torch_tokens as tokens
from .torch_messages import as_written, dtype_hint, quiet_torch_logs, user_frame
from .torch_rules import Alias, Emit, Pieces, Unsupported, Value
from .torch_tokens import Param, Returned

#: The seed of the input a module traced with forward hooks runs on (and of the weights a
#: ``file.py:factory`` SPEC's factory draws): a fixed seed makes the count the same every run.
SEED = 0


@dataclass(frozen=True)
class Uncounted:
    """A call costmodel could not count: the layer name it would have had, the call, why."""

    name: str
    call: str
    reason: str


@dataclass(frozen=True)
class Trace:
    """A traced module: its Network, how it was traced (``fx`` or ``hooks``), what was not
    counted, and torch's own measures of the same forward pass (MACs per sample by
    FlopCounterMode, parameters by ``sum(p.numel())``)."""

    network: Network
    method: str
    uncounted: tuple[Uncounted, ...]
    measured_macs: int
    module_params: int


class _Recorder:
    """Collects layers with unique names, turning rule answers into layers or Uncounted."""

    def __init__(self, input_sizes: Sequence[Sequence[int]], module: nn.Module | None = None):
        self.layers: list[Layer] = []
        self.uncounted: list[Uncounted] = []
        names = [torch_inputs.input_name(i) for i in range(len(input_sizes))]
        self.used: set[str] = set(names)
        self.input_names = set(names)
        self.counters: dict[str, int] = {}
        self.inputs = tuple(torch_inputs.value_of(tuple(size), name)
                            for size, name in zip(input_sizes, names))
        self.input = self.inputs[0]
        #: parameters by qualified name, and those some layer counts already (a module
        #: called twice, a weight two calls read: counted once, at the first)
        self.parameters = torch_params.sizes(module) if module is not None else {}
        self.claimed: set[str] = set()

    def unique(self, name: str) -> str:
        name = _safe_name(name)
        if name not in self.used:
            self.used.add(name)
            return name
        i = 1
        while f"{name}_{i}" in self.used:
            i += 1
        self.used.add(f"{name}_{i}")
        return f"{name}_{i}"

    def auto_name(self, prefix: str, op: str) -> str:
        """``prefix.op1``, ``prefix.op2``... as the spec builder names unnamed layers."""
        key = f"{prefix}{op}"
        while True:
            self.counters[key] = self.counters.get(key, 0) + 1
            name = f"{key}{'_' if op[-1].isdigit() else ''}{self.counters[key]}"
            if name not in self.used:
                return name

    def answer(self, result: Any, name: str, call: str, out_size: Any,
               params: tuple[str, ...] = (), last: bool = False) -> Any:
        """The Value (or Pieces) a call's rule answer stands for; records layers and misses.
        ``params``: the parameters of the module called; ``last``: whether the call read a
        last-layout tensor (what a call not counted is taken to give)."""
        if isinstance(result, (Param, Returned)):
            return result
        if isinstance(result, Alias):
            return result.value
        if isinstance(result, Pieces):
            pieces = out_size if isinstance(out_size, tuple) else ()
            axis = -1 if tokens.is_last(result.source) else 1  # features, or channels
            widths = tuple(int(m.shape[axis]) for m in pieces) \
                if pieces and all(hasattr(m, "shape") for m in pieces) else result.widths
            return Pieces(result.source, widths)
        if isinstance(result, Emit):
            if any(v.shape is None for v in result.inputs):
                result = Unsupported("it reads the output of a call that was not counted")
            else:
                return self.emit(result, name, call, out_size, params + result.params)
        return self.miss(name, call, result.reason, out_size, last)

    def emit(self, emit: Emit, name: str, call: str, out_size: Any,
             params: tuple[str, ...] = ()) -> Value | None:
        attrs = {key: tuple(Integer(int(v)) for v in value) if isinstance(value, tuple)
             else Integer(int(value)) for key, value in emit.attrs.items()}  # exact, as specs
        try:
            result = ops.apply(emit.op, [v.shape for v in emit.inputs], attrs)
        except CostModelError as exc:
            return self.miss(name, call, f"{emit.op}: {exc}", out_size)
        size = tuple(out_size)
        if emit.output is not None and emit.output.numel == result.shape.numel:
            result = replace(result, shape=emit.output)
        if not _agrees(result.shape, size):
            return self.miss(name, call, f"costmodel's {emit.op} gives {result.shape}, torch "
                             f"gives {'×'.join(map(str, size))}", out_size,
                             result.shape.layout == "last")
        name = self.unique(name)
        output = replace(result.shape, producer=name)
        counts = torch_params.once(result.counts, params, self.parameters, self.claimed)
        self.layers.append(Layer(name, emit.op, result.kind, tuple(attrs.items()),
                                 tuple(v.shape for v in emit.inputs), output, counts,
                                 # what the tool conventions key on
                                 call=traced_call(emit.call or call, emit.op)))
        return Value(output, size)

    def miss(self, name: str, call: str, reason: str, out_size: Any,
             last: bool = False) -> Value | None:
        name = self.unique(name)
        self.uncounted.append(Uncounted(name, as_written(call), reason))
        if out_size is None or not isinstance(out_size, (tuple, torch.Size)) \
                or not all(isinstance(s, int) for s in out_size):
            return None
        size = tuple(out_size)
        shape = tokens.as_last(size, name) if last else _shape(size, name)
        return Value(shape, size)


class _TooLarge(CostModelError):
    """The hook fallback's real input would be past its limit."""


def _safe_name(name: Any) -> str:
    """A name from the module (a submodule's path, a class name) as it may be printed."""
    return printable(name, MAX_QUOTED_PATH_CHARS)


def _class_name(module: nn.Module) -> str:
    return _safe_name(type(module).__name__)


def seeded_rng():
    """A context in which torch's global generator starts from :data:`SEED`, restored on
    exit: what runs inside draws the same numbers every time and leaves no trace outside."""
    @contextlib.contextmanager
    def scope():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            yield
    return scope()


def _shape(size: Sequence[int], producer: str) -> Shape | None:
    """N×C×L, N×C×H×W and N×C×T×H×W as C×L, C×H×W and C×T×H×W; N×F as F×1×1 (the output
    of a fully connected layer)."""
    if 3 <= len(size) <= 5:
        return Shape(Integer(int(size[1])), tuple(Integer(int(s)) for s in size[2:]),
                     producer=producer)
    if len(size) == 2:
        return Shape.image(Integer(int(size[1])), Integer(1), Integer(1), producer=producer)
    return None


def _agrees(shape: Shape, size: tuple[int, ...]) -> bool:
    """Whether costmodel's output ``shape`` is the tensor of torch ``size``: C×H×W as
    :func:`_shape` reads it; a last-layout shape by its channels and elements."""
    if shape.layout == "last":
        total = 1
        for side in size:
            total *= side
        return bool(size) and size[-1] == shape.c and total == tokens.BATCH.get() * shape.numel
    got = _shape(size, "")
    return got is not None and (got.c, got.h, got.w) == (shape.c, shape.h, shape.w)


def _device(module: nn.Module) -> torch.device:
    """Where the module's tensors are (a module built on the meta device is traced there)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def _module_rule(module: nn.Module):
    for kind in type(module).__mro__:
        if kind in modern.MODULE_RULES:
            return modern.MODULE_RULES[kind]
    return rules.module_rule(module)


class _Tracer(fx.Tracer):
    """torch.fx's tracer, with costmodel's own one-op modules (to_torch's attention,
    windows...) as leaves: read whole by their rule, never traced into."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return modern.is_own(m) or super().is_leaf_module(m, qualname)


def _call_name(node: fx.Node, module: nn.Module | None = None) -> str:
    if node.op == "call_module":
        kind = type(module)
        return f"{'nn.' if kind.__module__.startswith('torch.nn') else ''}{_class_name(module)}"
    if node.op == "call_method":
        return _safe_name(f"Tensor.{node.target}")
    target = node.target
    owner = getattr(target, "__module__", None) or ""
    owner = {"torch.nn.functional": "F", "_operator": "operator"}.get(owner, owner)
    return _safe_name(f"{owner}.{getattr(target, '__name__', target)}" if owner else target)


# --- torch.fx -------------------------------------------------------------------------------

def _fx_graph(module: nn.Module, sizes: tuple[tuple[int, ...], ...]
              ) -> tuple[fx.GraphModule, int]:
    """torch.fx's graph of ``module`` with every node's shape (ShapeProp on fake tensors), and
    FlopCounterMode's FLOPs of that pass. Any failure here means: fall back to hooks."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import ShapeProp
    from torch.utils.flop_counter import FlopCounterMode

    tracer = _Tracer()
    graph = tracer.trace(module)
    gm = fx.GraphModule(tracer.root, graph)
    fake = FakeTensorMode()
    with fake:  # fake inputs: no memory for them, whatever their size
        xs = [torch.empty(size, device=_device(module)) for size in sizes]
    # ShapeProp prints a failing node's traceback before raising, and torch logs the failing
    # op's: the fallback reports the failure in one line
    # attention decomposed: with gradients nn.MultiheadAttention takes its unfused path,
    # and SDPA's math backend runs as matmuls FlopCounterMode counts (torch_params.py)
    with torch_params.decomposed_attention(), FlopCounterMode(display=False) as counter, \
            contextlib.redirect_stderr(io.StringIO()), quiet_torch_logs():
        ShapeProp(gm, fake).propagate(*xs)
    return gm, counter.get_total_flops()


def _walk_fx(gm: fx.GraphModule, sizes: tuple[tuple[int, ...], ...]) -> _Recorder:
    """Each node of the graph through the rules, in order."""
    recorder = _Recorder(sizes, gm)
    env: dict[fx.Node, Any] = {}
    placeholders = 0
    for node in gm.graph.nodes:
        if node.op == "placeholder":  # the inputs given, in order; a default argument: None
            env[node] = recorder.inputs[placeholders] \
                if placeholders < len(recorder.inputs) else None
            placeholders += 1
            continue
        if node.op == "output":
            continue
        if node.op == "get_attr":
            meta = node.meta.get("tensor_meta")
            if str(node.target) in recorder.parameters and hasattr(meta, "shape"):
                env[node] = Param(str(node.target), tuple(meta.shape))
            continue
        meta = node.meta.get("tensor_meta")
        if meta is None:
            env[node] = None  # a size, an int: arguments of other calls, not tensors
            continue
        out_size = tuple(meta.shape) if hasattr(meta, "shape") else tuple(meta)  # tuple: chunk
        if node.op == "call_module" and not hasattr(meta, "shape") and meta \
                and hasattr(meta[0], "shape"):  # a module's tuple: (output, weights)
            out_size = tuple(meta[0].shape)
            value = _fx_node(node, gm, fx.node.map_arg(node.args, lambda n: env.get(n)),
                             fx.node.map_arg(node.kwargs, lambda n: env.get(n)), out_size,
                             recorder)
            env[node] = Returned((value, None))
            continue
        args = fx.node.map_arg(node.args, lambda n: env.get(n))
        kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n))
        env[node] = _fx_node(node, gm, args, kwargs, out_size, recorder)
    return recorder


def _fx_node(node: fx.Node, gm: fx.GraphModule, args, kwargs, out_size, recorder: _Recorder):
    module = gm.get_submodule(node.target) if node.op == "call_module" else None
    call = _call_name(node, module)
    stack = list(node.meta.get("nn_module_stack", {}).values())
    prefix = f"{stack[-1][0]}." if stack and node.op != "call_module" else ""
    method = node.target if node.op == "call_method" else None
    is_reshape = method in rules.RESHAPES or node.target in (torch.reshape, torch.transpose,
                                                             torch.permute)
    if node.target is torch.permute and len(args) == 2:
        args = (args[0], *args[1])  # torch.permute(x, dims) as x.permute(*dims)
    if node.op == "call_module":
        if torch_inputs.is_cross(module, args, kwargs):
            return torch_inputs.cross_attention(recorder, module, node.target, args, kwargs,
                                                out_size)
        rule = _module_rule(module)
        if not args:  # called with keywords only: MultiheadAttention(query=x, key=x, ...)
            args = tuple(v for v in kwargs.values() if isinstance(v, Value))[:1] or (None,)
        result = rule(module, args[0]) if rule and isinstance(args[0], Value) and \
            args[0].shape is not None else Unsupported(
                "no rule for this module" if rule is None else "its input is not a feature map")
        if rule is not None:
            result, args = torch_inputs.retry_as_tokens(
                result, lambda x, *_: rule(module, x), args[:1], recorder.input_names)
        names = tuple(f"{node.target}.{n}" for n, _ in module.named_parameters())
        return recorder.answer(result, node.target, call, out_size, names,
                               tokens.is_last(args[0]) if args else False)
    word = method or getattr(node.target, "__name__", "")
    if word == "getitem" and not node.users:  # `out, _ = attn(q, k, v)`: an item unread
        return None
    if args and isinstance(args[0], Param) and word in tensors.MOVES:
        return replace(args[0], size=tuple(out_size))  # a view of a parameter: the parameter
    if word == "getitem" and len(args) == 2 and tokens.is_last(args[0]) and \
            windows.keeps_features(args[1]):
        return tokens.last_view(args[0], tuple(out_size))  # patch merging's strided slices
    if args and tokens.is_last(args[0]) and word in tensors.MOVES and \
            word not in ("getitem", "transpose", "permute", "view", "reshape", "flatten"):
        return tokens.last_view(args[0], tuple(out_size))  # free: contiguous, unsqueeze, roll...
    if method in ("flatten",) or node.target is torch.flatten:
        is_reshape = isinstance(args[0], Value) and args[0].shape is not None and (
            tokens.is_last(args[0]) or (args[1:2] or [0])[0] == 2)
    rule = (tensors.METHOD_RULES.get(method) or rules.method_rule(method)) if method else \
        (tensors.FUNCTION_RULES.get(node.target) or rules.function_rule(node.target, call)
         or windows.rule_by_name(call))
    name_base = _op_word(method or getattr(node.target, "__name__", "call"))
    try:
        if is_reshape and isinstance(args[0], Value) and args[0].shape is not None:
            how = method or node.target.__name__
            dims = args[1] if how == "permute" and len(args) == 2 else args[1:]  # permute(dims)
            result = tensors.reshape(args[0], tuple(out_size), how,
                                     tuple(a for a in dims if isinstance(a, int)))
        elif rule is None:
            result = Unsupported("no rule for this call")
        else:
            args = torch_inputs.beside_tokens(args, recorder.input_names)
            result = rule(*args, **kwargs)
            result, args = torch_inputs.retry_as_tokens(
                result, lambda *a: rule(*a, **kwargs), args, recorder.input_names)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        result = Unsupported(f"arguments not understood ({exc})")
    if isinstance(result, Emit):
        name_base = result.op
    last = any(tokens.is_last(a) for a in args if isinstance(a, Value))
    return recorder.answer(result, recorder.auto_name(prefix, name_base) if not
                           isinstance(result, (Alias, Pieces)) else "", call, out_size,
                           last=last)


def _op_word(text: str) -> str:
    """A call's name as a layer-name word: ``matmul``, ``interpolate``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_") or "call"


# --- forward hooks (the fallback) -------------------------------------------------------------

def _trace_hooks(module: nn.Module, sizes: tuple[tuple[int, ...], ...]
                 ) -> tuple[_Recorder, int]:
    from torch.utils.flop_counter import FlopCounterMode

    elements = 0
    for size in sizes:
        count = 1
        for side in size:
            count *= side
        elements += count
    if elements > MAX_TRACED_INPUT_ELEMENTS:  # real tensors from here on: bounded before
        raise _TooLarge(f"{torch_inputs.shown(sizes)}: {elements:,} elements is past "
                        f"MAX_TRACED_INPUT_ELEMENTS ({MAX_TRACED_INPUT_ELEMENTS:,}) for a "
                        "module run with forward hooks; give a smaller --input")
    recorder = _Recorder(sizes, module)
    # a fixed seed: a forward that branches on its data takes the same path on every run
    generator = torch.Generator().manual_seed(SEED)
    xs = [torch.randn(size, generator=generator).to(_device(module)) for size in sizes]
    produced: dict[int, tuple[torch.Tensor, Value]] = {
        id(x): (x, value) for x, value in zip(xs, recorder.inputs)}

    def value_of(t: torch.Tensor) -> Value:
        known = produced.get(id(t))
        if known is not None and known[0] is t:
            return known[1]
        return Value(_shape(tuple(t.shape), "?"), tuple(t.shape))

    def hook(name: str):
        def record(mod: nn.Module, inputs: tuple, output: Any) -> None:
            if not isinstance(output, torch.Tensor) or not inputs or \
                    not isinstance(inputs[0], torch.Tensor):
                recorder.miss(name, _class_name(mod), "not a tensor-to-tensor call", None)
                return
            x_value = value_of(inputs[0])
            rule = _module_rule(mod)
            result = rule(mod, x_value) if rule and x_value.shape is not None else \
                Unsupported("no rule for this module" if rule is None else "not a feature map")
            names = tuple(f"{name}.{n}" for n, _ in mod.named_parameters())
            value = recorder.answer(result, name, f"nn.{_class_name(mod)}",
                                    tuple(output.shape), names, tokens.is_last(x_value))
            if value is not None:
                produced[id(output)] = (output, value)
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in module.named_modules()
               if name and next(m.children(), None) is None]
    try:
        with torch_params.decomposed_attention(), FlopCounterMode(display=False) as counter, \
                seeded_rng():
            module(*xs)
    finally:
        for handle in handles:
            handle.remove()
    return recorder, counter.get_total_flops()


# --- the entry points ---------------------------------------------------------------------------

def trace_torch(module: nn.Module, input_shape: Any = (1, 3, 224, 224),
                name: str | None = None, config: Sequence[tuple[str, Any]] = ()) -> Trace:
    """Trace ``module`` on inputs of ``input_shape``: one shape, a tuple of ints (N×C×H×W
    for images, N×C×L or N×L×D for sequences, N×C×T×H×W for video, N×F for features), or a
    list or tuple of shapes, one per argument of ``forward`` (:mod:`.torch_inputs`). Inputs
    are float tensors; counts are per sample."""
    if not isinstance(module, nn.Module):
        raise CostModelError(f"expected an nn.Module, got {_safe_name(type(module).__name__)}")
    sizes = torch_inputs.input_sizes(input_shape)
    torch_inputs.check_arity(module, len(sizes), _class_name(module))
    size = sizes[0]
    training = [(m, m.training) for m in module.modules()]
    module.eval()  # inference: dropout off, batch norm with its running statistics
    warnings = []
    batch = tokens.BATCH.set(size[0])
    try:
        try:
            graph, flops = _fx_graph(module, sizes)
        except Exception as exc:  # noqa: BLE001 - any failure of fx's tracing or shape pass
            graph, reason = None, f"{type(exc).__name__}: " + \
                (str(exc).splitlines()[0] if str(exc) else "")
        if graph is not None:
            recorder, method = _walk_fx(graph, sizes), "fx"
        else:
            try:
                recorder, flops = _trace_hooks(module, sizes)
            except _TooLarge as exc:
                raise CostModelError(f"torch.fx could not trace {_class_name(module)} "
                                     f"({reason[:160]}), and running it: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - the user's forward, on a zero input
                given = f"a {torch_inputs.shown(sizes)} input" if len(sizes) == 1 else \
                    f"inputs {torch_inputs.shown(sizes)}"
                raise CostModelError(f"{_class_name(module)} failed on {given}"
                                     f"{dtype_hint(exc)}: {user_frame(exc)}"
                                     f"{type(exc).__name__}: {exc} (torch.fx: {reason})"
                                     ) from None
            method = "hooks"
            warnings += [CostWarning("traced_with_hooks", detail=(
                f"torch.fx could not trace this module ({reason[:160]}); it was traced "
                "with forward hooks on its leaf modules, which see module calls only: functional "
                "calls in forward (+, torch.cat, *, F.relu, reshapes, F.conv2d...) are missing "
                "from the layers, and edges through them are unknown (source '?')")),
                CostWarning("data_dependent", detail=(
                    f"the count follows the path one input took (random, from seed {SEED}, "
                    "so every run counts the same): where forward branches on its data "
                    "(if x.sum() > 0: ...), other inputs may take other paths at other costs"))]
    finally:
        tokens.BATCH.reset(batch)
        for m, mode in training:
            m.train(mode)
    held, not_called = torch_params.held_layers(module, recorder.claimed, recorder.input.shape,
                                                recorder.used)
    recorder.layers[:0] = held  # first: each passes the input through, and reads it only
    warnings += not_called + torch_params.attention_warning(recorder.layers)
    if not recorder.layers:
        raise CostModelError(f"no layer of {_class_name(module)} could be counted"
                             + _uncounted_text(recorder.uncounted))
    network = Network(_safe_name(name) if name else _class_name(module),
                      (("input", torch_inputs.shown(sizes)), *tuple(config)),
                      recorder.input.shape, tuple(recorder.layers),
                      (inspect.getdoc(type(module)) or "").strip(), (),
                      extra_inputs=tuple(v.shape for v in recorder.inputs[1:]))
    measured = flops // (2 * size[0])
    params = sum(p.numel() for p in module.parameters())
    warnings += uncounted_warnings(recorder.uncounted)
    macs, counted_params = exact(network.macs()), exact(network.params("torch"))
    if measured != macs:
        warnings.append(CostWarning("measured_differs", count=measured, detail=(
            f"torch's FlopCounterMode measures {measured:,} MACs per sample in this forward "
            f"pass; costmodel counts {macs:,} (the difference is in calls not counted)")))
    if params != counted_params:
        warnings.append(CostWarning("params_differ", count=params, detail=(
            f"the module has {params:,} parameters; costmodel's layers hold "
            f"{counted_params:,} (torch convention): the rest are in modules not counted or "
            "not called")))
    network = replace(network, warnings=tuple(warnings))
    return Trace(network, method, tuple(recorder.uncounted), measured, params)


def count_torch(module: nn.Module, input_shape: Any = (1, 3, 224, 224),
                name: str | None = None) -> Network:
    """The Network of ``module`` on inputs of ``input_shape`` (counts per sample): costs,
    shapes and the graph, as a spec builds them; calls not counted are its warnings.

    ``input_shape`` is one shape, a tuple of ints (``(1, 3, 224, 224)``), for
    ``module(x)``, or several, a list or tuple of shapes (``[(1, 3, 224, 224), (1, 77)]``),
    for ``module(x, y)``; every input is a float tensor and has the same batch N. The first
    input is ``Network.input``, the others ``Network.extra_inputs`` (``input2``...)."""
    return trace_torch(module, input_shape, name).network


def uncounted_warnings(uncounted: Sequence[Uncounted]) -> list[CostWarning]:
    """One warning per call and reason: the call, how many times, the layers' names."""
    groups: dict[tuple[str, str], list[str]] = {}
    for item in uncounted:
        groups.setdefault((item.call, item.reason), []).append(item.name)
    return [CostWarning("uncounted", call, len(names), printable(reason, None), tuple(names))
            for (call, reason), names in groups.items()]


def _uncounted_text(uncounted: Sequence[Uncounted]) -> str:
    texts = [w.text().removeprefix("not counted: ") for w in uncounted_warnings(uncounted)]
    return ("; not counted: " + "; ".join(texts)) if texts else ""
