"""Measure kernels on this machine with PyTorch eager, and fit a kernel profile from them.

Method (fixed threads, warm-up, medians, the spread recorded): every sample is the op's own
PyTorch form (the module :func:`costmodel.frontends.to_torch` builds for that layer, in eval
mode, under ``torch.inference_mode``), called once to warm up, then timed in ``RUNS`` runs of
enough calls to last about ``RUN_SECONDS`` each; its time is the median run's per-call time
and its spread ``(slowest − fastest) / median`` of the runs. Other jobs on a shared machine
only ever slow a run down, so the spread is the noise the measurement saw.

Fusion rules are measured as nn-Meter does: ``a``, ``b`` and ``a → b`` timed at HW 28, 64 → 128
channels; ``a → b`` fuses when ``T(a) + T(b) − T(a→b) > α · min(T(a), T(b))``, α = 0.5. In
eager mode each call is its own kernel, so a chain of two modules can only fuse by accident
of the cache; the rule table records what was found either way.

The executor's own cost (``network_seconds`` per forward, ``step_seconds`` per layer) comes
from ``to_torch`` chains of 1 and 33 dropout layers (the identity at inference), less the
dropout module's own call.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.network import Layer
from .detect import features, kernel_type
from .sample import Config

RUNS = 7
RUN_SECONDS = 0.002
ALPHA = 0.5
#: samples per kernel type, relative: the heavy kernels of real networks get the most
WEIGHTS = {"conv": 5, "pwconv": 6, "dwconv": 5, "gconv": 2, "gpwconv": 2, "fc": 2, "bn": 2, "relu": 1.5,
           "relu6": 1, "hswish": 1, "hsigmoid": 1, "add": 1.5, "mul": 1, "concat": 1,
           "split": 0.5, "shuffle": 1, "maxpool": 1, "avgpool": 0.5, "gap": 1,
           "adaptivepool": 0.5, "lrn": 0.5, "dropout": 0.3}
MIN_SAMPLES = 6
#: the features each kernel type's model uses (the rest: bytes and one)
MODEL_FEATURES = {**{kind: ("macs", "bytes", "one") for kind in
                     ("conv", "pwconv", "gconv", "gpwconv", "fc")},
                  "dwconv": ("macs", "bytes", "planes", "one"),
                  **{kind: ("ops", "bytes", "one") for kind in
                     ("maxpool", "avgpool", "gap", "adaptivepool", "lrn")},
                  "split": ("one",), "dropout": ("one",)}
DEFAULT_FEATURES = ("bytes", "one")
FUSION_PAIRS = (("conv", "bn"), ("conv", "relu"), ("bn", "relu"), ("dw", "bn"),
                ("dw", "relu"), ("fc", "relu"), ("add", "relu"), ("relu", "maxpool"))


@dataclass(frozen=True)
class Sample:
    kind: str
    config: Config
    seconds: float
    spread: float
    features: tuple[tuple[str, float], ...]


def _torch():
    import torch
    return torch


def callable_of(layer: Layer, batch: int = 1) -> tuple[Callable, tuple]:
    """The PyTorch form ``to_torch`` gives ``layer`` and random inputs of its shapes."""
    torch = _torch()
    from ..core.opdef import definition_of, with_defaults
    from ..frontends.torch_build import LayerInfo

    cin = int(layer.inputs[0].c)
    attrs = {k: None if v is None else int(v)
             for k, v in with_defaults(layer.op, dict(layer.attrs)).items()}
    if layer.op == "split":
        attrs["start"] = 0
    if layer.op == "fc":
        cin = int(layer.inputs[0].numel)
    module = definition_of(layer.op).torch.module(LayerInfo(layer, attrs, cin, False))
    if isinstance(module, torch.nn.Module):
        module.eval()
    if layer.op == "fc":
        inputs = (torch.randn(batch, cin),)
    else:
        inputs = tuple(torch.randn(batch, int(s.c), int(s.h), int(s.w)) for s in layer.inputs)
    return module, inputs


def time_call(call: Callable, args: Sequence, runs: int = RUNS,
              run_seconds: float = RUN_SECONDS) -> tuple[float, float]:
    """Median seconds per call over ``runs`` runs, and the spread (module doc)."""
    torch = _torch()
    with torch.inference_mode():
        start = time.perf_counter()
        call(*args)  # warm up: allocation, first-touch, kernel choice
        first = time.perf_counter() - start
        calls = max(1, min(10_000, int(run_seconds / max(first, 1e-7))))
        per_call = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(calls):
                call(*args)
            per_call.append((time.perf_counter() - start) / calls)
    median = statistics.median(per_call)
    return median, (max(per_call) - min(per_call)) / median


def measure(config: Config, runs: int = RUNS) -> Sample:
    layer = config.layer()
    module, inputs = callable_of(layer, config.batch)
    seconds, spread = time_call(module, inputs, runs)
    return Sample(kernel_type(layer), config, seconds, spread,
                  features((layer,), config.batch))


def _chain_layers(first: str, second: str) -> tuple[Layer, Layer]:
    attrs = {"conv": (("c", 128), ("k", 3)), "dw": (("k", 3),), "fc": (("c", 128),),
             "maxpool": (("k", 3), ("s", 2), ("p", 1))}
    shape = (64, 28, 28) if first != "fc" else (428, 1, 1)
    inputs = (shape, shape) if first == "add" else (shape,)
    a = Config(first, attrs.get(first, ()), inputs).layer()
    out = a.output
    b = Config(second, attrs.get(second, ()), ((int(out.c), int(out.h), int(out.w)),)).layer()
    return a, b


def fusion_rule(first: str, second: str, runs: int = RUNS,
                rounds: int = 3) -> tuple[str, bool, float]:
    """Whether ``first → second`` runs as one kernel: (rule key, fused, saved fraction of
    the smaller op's time). Each of a, b and a→b is timed in ``rounds`` interleaved rounds and
    keeps its fastest round (load from other jobs only adds time)."""
    from .detect import rule_class, rule_key

    a, b = _chain_layers(first, second)
    call_a, inputs = callable_of(a)
    call_b, (middle,) = callable_of(b)
    calls = ((call_a, inputs), (call_b, (middle,)),
             (lambda *xs: call_b(call_a(*xs)), inputs))
    best = [float("inf")] * 3
    for _ in range(rounds):
        for i, (call, args) in enumerate(calls):
            best[i] = min(best[i], time_call(call, args, runs)[0])
    t_a, t_b, t_ab = best
    saved = t_a + t_b - t_ab
    return (rule_key(rule_class(a), rule_class(b)), saved > ALPHA * min(t_a, t_b),
            saved / min(t_a, t_b))


def executor_overhead(runs: int = RUNS) -> tuple[float, float]:
    """(network_seconds, step_seconds) of the ``to_torch`` executor (module doc)."""
    torch = _torch()
    from ..frontends import to_torch
    from ..spec import build, parse_text

    def chain(n: int):
        text = "model chain\ninput 8 4 4\n" + "dropout\n" * n
        return to_torch(build(parse_text(text)))

    x = torch.randn(1, 8, 4, 4)
    one = time_call(chain(1), (x,), runs)[0]
    many = time_call(chain(33), (x,), runs)[0]
    dropout = time_call(torch.nn.Dropout().eval(), (x,), runs)[0]
    step = max(0.0, (many - one) / 32 - dropout)
    return max(0.0, one - dropout - step), step


def plan(rng: random.Random, kinds: Sequence[str]) -> Callable[[], str]:
    """An endless draw of kernel types: first ``MIN_SAMPLES`` of each, then by weight."""
    queue = [kind for _ in range(MIN_SAMPLES) for kind in kinds]
    weights = [WEIGHTS.get(kind, 0.5) for kind in kinds]

    def next_kind() -> str:
        return queue.pop(0) if queue else rng.choices(kinds, weights)[0]
    return next_kind


def calibrate_samples(budget: float, seed: int = 0, threads: int = 1,
                      progress: Callable[[float, int], None] | None = None,
                      runs: int = RUNS) -> tuple[list[Sample], list[tuple[str, bool, float]],
                                                 tuple[float, float]]:
    """Fusion rules, executor overhead and kernel samples until ``budget`` seconds pass."""
    from .sample import draw, prior

    torch = _torch()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    rules = [fusion_rule(a, b, runs) for a, b in FUSION_PAIRS]
    overhead = executor_overhead(runs)
    rng = random.Random(seed)
    kinds = [kind for kind in WEIGHTS if kind in prior()]
    next_kind = plan(rng, kinds)
    samples: list[Sample] = []
    while time.perf_counter() - start < budget:
        config = draw(next_kind(), rng)
        if config is not None:
            samples.append(measure(config, runs))
        if progress:
            progress(time.perf_counter() - start, len(samples))
    return samples, rules, overhead
