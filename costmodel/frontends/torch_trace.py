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
from . import torch_rules as rules
from .torch_rules import Alias, Emit, Pieces, Unsupported, Value

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

    def __init__(self, input_size: Sequence[int]):
        self.layers: list[Layer] = []
        self.uncounted: list[Uncounted] = []
        self.used: set[str] = {"input"}
        self.counters: dict[str, int] = {}
        self.input = Value(_shape(input_size, "input"), tuple(input_size))

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

    def answer(self, result: Any, name: str, call: str, out_size: Any) -> Any:
        """The Value (or Pieces) a call's rule answer stands for; records layers and misses."""
        if isinstance(result, Alias):
            return result.value
        if isinstance(result, Pieces):
            pieces = out_size if isinstance(out_size, tuple) else ()
            widths = tuple(int(m.shape[1]) for m in pieces) \
                if pieces and all(hasattr(m, "shape") for m in pieces) else result.widths
            return Pieces(result.source, widths)
        if isinstance(result, Emit):
            if any(v.shape is None for v in result.inputs):
                result = Unsupported("it reads the output of a call that was not counted")
            else:
                return self.emit(result, name, call, out_size)
        return self.miss(name, call, result.reason, out_size)

    def emit(self, emit: Emit, name: str, call: str, out_size: Any) -> Value | None:
        attrs = {key: Integer(int(value)) for key, value in emit.attrs.items()}  # exact, as specs
        try:
            result = ops.apply(emit.op, [v.shape for v in emit.inputs], attrs)
        except CostModelError as exc:
            return self.miss(name, call, f"{emit.op}: {exc}", out_size)
        size = tuple(out_size)
        got = _shape(size, name)
        if got is None or (got.c, got.h, got.w) != (result.shape.c, result.shape.h, result.shape.w):
            return self.miss(name, call, f"costmodel's {emit.op} gives {result.shape}, torch "
                             f"gives {'×'.join(map(str, size))}", out_size)
        name = self.unique(name)
        output = replace(result.shape, producer=name)
        self.layers.append(Layer(name, emit.op, result.kind, tuple(attrs.items()),
                                 tuple(v.shape for v in emit.inputs), output, result.counts,
                                 call=traced_call(call, emit.op)))  # what the tool conventions key on
        return Value(output, size)

    def miss(self, name: str, call: str, reason: str, out_size: Any) -> Value | None:
        name = self.unique(name)
        self.uncounted.append(Uncounted(name, _as_written(call), reason))
        if out_size is None or not isinstance(out_size, (tuple, torch.Size)) \
                or not all(isinstance(s, int) for s in out_size):
            return None
        shape = _shape(tuple(out_size), name)
        return Value(shape, tuple(out_size)) if shape is not None else Value(None, tuple(out_size))


def _user_frame(exc: BaseException) -> str:
    """The innermost frame of ``exc`` in the user's code (not torch's, not costmodel's):
    ``net.py:36 in forward: return x.view(7, -1, 5); ``, else nothing."""
    import os
    import traceback

    own = tuple(os.path.dirname(os.path.dirname(m.__file__)) + os.sep
                for m in (torch, ops))  # site-packages (torch, any library), costmodel/
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(own) and not f.filename.startswith("<")]
    if not frames:
        return ""
    frame = frames[-1]
    line = f": {printable(frame.line, 120)}" if frame.line else ""
    return (f"{printable(os.path.basename(frame.filename))}:{frame.lineno} in "
            f"{printable(frame.name)}{line}; ")


def _as_written(call: str) -> str:
    """A call as the user's model writes it, for a warning: ``F.gelu`` for the builtin that
    torch defines as ``torch._C._nn.gelu``, ``torch.x`` for ``torch._C._VariableFunctions.x``."""
    owner, _, name = call.rpartition(".")
    if owner.startswith("torch._C") and name and not name.startswith("_"):
        for prefix, namespace in (("F", nn.functional), ("torch", torch)):
            if callable(getattr(namespace, name, None)):
                return f"{prefix}.{name}"
    return call


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
    """N×C×H×W as C×H×W, and N×F as F×1×1 (the output of a fully connected layer)."""
    if len(size) == 4:
        return Shape(*(Integer(int(s)) for s in size[1:]), producer=producer)
    if len(size) == 2:
        return Shape(Integer(int(size[1])), Integer(1), Integer(1), producer=producer)
    return None


def _device(module: nn.Module) -> torch.device:
    """Where the module's tensors are (a module built on the meta device is traced there)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def _module_rule(module: nn.Module):
    return rules.module_rule(module)


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

def _fx_graph(module: nn.Module, input_size: tuple[int, ...]) -> tuple[fx.GraphModule, int]:
    """torch.fx's graph of ``module`` with every node's shape (ShapeProp on fake tensors), and
    FlopCounterMode's FLOPs of that pass. Any failure here means: fall back to hooks."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import ShapeProp
    from torch.utils.flop_counter import FlopCounterMode

    tracer = fx.Tracer()
    graph = tracer.trace(module)
    gm = fx.GraphModule(tracer.root, graph)
    fake = FakeTensorMode()
    with fake:  # a fake input: no memory for it, whatever its size
        x = torch.empty(input_size, device=_device(module))
    # ShapeProp prints a failing node's traceback before raising, and torch logs the failing
    # op's: the fallback reports the failure in one line
    with torch.no_grad(), FlopCounterMode(display=False) as counter, \
            contextlib.redirect_stderr(io.StringIO()), _quiet_torch_logs():
        ShapeProp(gm, fake).propagate(x)
    return gm, counter.get_total_flops()


@contextlib.contextmanager
def _quiet_torch_logs():
    """No log record below CRITICAL while inside (torch's fake tensors log a failing op with
    its traceback on stderr, through a handler that redirect_stderr does not reach)."""
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(previous)


def _walk_fx(gm: fx.GraphModule, input_size: tuple[int, ...]) -> _Recorder:
    """Each node of the graph through the rules, in order."""
    recorder = _Recorder(input_size)
    env: dict[fx.Node, Any] = {}
    seen_input = False
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            env[node] = recorder.input if not seen_input else None
            seen_input = True
            continue
        if node.op in ("output", "get_attr"):
            continue
        meta = node.meta.get("tensor_meta")
        if meta is None:
            env[node] = None  # a size, an int: arguments of other calls, not tensors
            continue
        out_size = tuple(meta.shape) if hasattr(meta, "shape") else tuple(meta)  # tuple: chunk
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
    if node.op == "call_module":
        rule = _module_rule(module)
        result = rule(module, args[0]) if rule and isinstance(args[0], Value) and \
            args[0].shape is not None else Unsupported(
                "no rule for this module" if rule is None else "its input is not a feature map")
        return recorder.answer(result, node.target, call, out_size)
    rule = rules.method_rule(method) if method else rules.function_rule(node.target, call)
    name_base = _op_word(method or getattr(node.target, "__name__", "call"))
    try:
        if is_reshape and isinstance(args[0], Value) and args[0].shape is not None:
            how = method or node.target.__name__
            dims = args[1] if how == "permute" and len(args) == 2 else args[1:]  # permute(dims)
            result = rules.reshape(args[0], tuple(out_size), how,
                                   tuple(a for a in dims if isinstance(a, int)))
        elif rule is None:
            result = Unsupported("no rule for this call")
        else:
            result = rule(*args, **kwargs)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        result = Unsupported(f"arguments not understood ({exc})")
    if isinstance(result, Emit):
        name_base = result.op
    return recorder.answer(result, recorder.auto_name(prefix, name_base) if not
                           isinstance(result, (Alias, Pieces)) else "", call, out_size)


def _op_word(text: str) -> str:
    """A call's name as a layer-name word: ``matmul``, ``interpolate``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_") or "call"


# --- forward hooks (the fallback) -------------------------------------------------------------

def _trace_hooks(module: nn.Module, input_size: tuple[int, ...]) -> tuple[_Recorder, int]:
    from torch.utils.flop_counter import FlopCounterMode

    elements = 1
    for side in input_size:
        elements *= side
    if elements > MAX_TRACED_INPUT_ELEMENTS:  # real tensors from here on: bounded before
        raise _TooLarge(f"{'×'.join(map(str, input_size))} = {elements:,} elements is past "
                        f"MAX_TRACED_INPUT_ELEMENTS ({MAX_TRACED_INPUT_ELEMENTS:,}) for a "
                        "module run with forward hooks; give a smaller --input")
    recorder = _Recorder(input_size)
    # a fixed seed: a forward that branches on its data takes the same path on every run
    generator = torch.Generator().manual_seed(SEED)
    x = torch.randn(input_size, generator=generator).to(_device(module))
    produced: dict[int, tuple[torch.Tensor, Value]] = {id(x): (x, recorder.input)}

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
            value = recorder.answer(result, name, f"nn.{_class_name(mod)}",
                                    tuple(output.shape))
            if value is not None:
                produced[id(output)] = (output, value)
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in module.named_modules()
               if name and next(m.children(), None) is None]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter, seeded_rng():
            module(x)
    finally:
        for handle in handles:
            handle.remove()
    return recorder, counter.get_total_flops()


# --- the entry points ---------------------------------------------------------------------------

def trace_torch(module: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224),
                name: str | None = None, config: Sequence[tuple[str, Any]] = ()) -> Trace:
    """Trace ``module`` on an input of ``input_shape`` (N×C×H×W; counts are per sample)."""
    if not isinstance(module, nn.Module):
        raise CostModelError(f"expected an nn.Module, got {_safe_name(type(module).__name__)}")
    size = tuple(int(s) for s in input_shape)
    if len(size) != 4 or min(size) < 1:
        raise CostModelError(f"input shape must be N,C,H,W with positive sizes, got "
                             f"{','.join(map(str, size))}")
    training = [(m, m.training) for m in module.modules()]
    module.eval()  # inference: dropout off, batch norm with its running statistics
    warnings = []
    try:
        try:
            graph, flops = _fx_graph(module, size)
        except Exception as exc:  # noqa: BLE001 - any failure of fx's tracing or shape pass
            graph, reason = None, f"{type(exc).__name__}: " + \
                (str(exc).splitlines()[0] if str(exc) else "")
        if graph is not None:
            recorder, method = _walk_fx(graph, size), "fx"
        else:
            try:
                recorder, flops = _trace_hooks(module, size)
            except _TooLarge as exc:
                raise CostModelError(f"torch.fx could not trace {_class_name(module)} "
                                     f"({reason[:160]}), and running it: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - the user's forward, on a zero input
                raise CostModelError(f"{_class_name(module)} failed on a "
                                     f"{'×'.join(map(str, size))} input: {_user_frame(exc)}"
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
        for m, mode in training:
            m.train(mode)
    if not recorder.layers:
        raise CostModelError(f"no layer of {_class_name(module)} could be counted"
                             + _uncounted_text(recorder.uncounted))
    network = Network(_safe_name(name) if name else _class_name(module),
                      (("input", "×".join(map(str, size))), *tuple(config)),
                      recorder.input.shape, tuple(recorder.layers),
                      (inspect.getdoc(type(module)) or "").strip(), ())
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


def count_torch(module: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224),
                name: str | None = None) -> Network:
    """The Network of ``module`` on an ``input_shape`` input (counts per sample): costs,
    shapes and the graph, as a spec builds them; calls not counted are its warnings."""
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
