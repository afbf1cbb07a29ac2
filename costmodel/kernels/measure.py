"""Measure kernels on this machine, with PyTorch eager or ONNX Runtime (:mod:`.runtimes`), for
a kernel profile.

Method (fixed threads, warm-up, medians, the spread recorded): every sample is the op's own
PyTorch form (the module :func:`costmodel.frontends.to_torch` builds for that layer, in eval
mode, under ``torch.inference_mode``; on ONNX Runtime, its export), called once to warm up,
then timed in ``RUNS`` runs of enough calls to last about ``RUN_SECONDS`` each; its time is
the median run's per-call time and its spread ``(slowest − fastest) / median`` of the runs. Other jobs on a shared machine
only ever slow a run down, so the spread is the noise the measurement saw.

Fusion rules are measured as nn-Meter does: ``a``, ``b`` and ``a → b`` timed (at HW 56 and 32
channels, a 1×1 convolution, where the two ops take comparable times, so that the noise of
the larger cannot pass for the saving on the smaller; nn-Meter uses HW 28, 64 → 128 3×3);
``a → b`` fuses when ``T(a) + T(b) − T(a→b) > α · min(T(a), T(b))``, α = 0.5. In
eager mode each call is its own kernel, so a chain of two modules can only fuse by accident
of the cache; ONNX Runtime runs ``a → b`` as one exported graph, which it may fuse (batch
norm folded into the convolution by the export, activations into ORT's fused convolution).
The rule table records what was found either way. A saving must also stand
clear of the noise (two standard errors over the rounds, :func:`fusion_rule`) and be at least
``MIN_SAVING`` of the slower op: PyTorch's max pooling of that map takes 720 µs and the ReLU
before it 8 µs, and 17 µs saved by chance (2% of the pool) passed for fusion in two of four
calibrations, which then priced every ReLU → max pool of a network at the ReLU's time alone
(SqueezeNet −18%).

The clock is the thread's CPU time by default (``clock="cpu"``): on a machine shared with
other jobs a wall-clock run is stretched by every time slice another process takes, which
hits a 20 ms network far more surely than a 2 ms run of one kernel; with one thread and
nothing else running the two clocks agree. What a network costs beyond its kernels timed
alone (the executor, fresh buffers, cold caches) is measured on random synthetic networks
(:mod:`.synthetic`) timed whole. Everything is measured with freed memory kept by the process
(:mod:`.allocator`): glibc's defaults make a network's page faults depend on what the
process ran before.
"""

from __future__ import annotations

import functools
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.network import Layer
from .detect import features, kernel_type
from .runtimes import Unsupported, compiled, node_seconds
from .sample import Config, Sample

RUNS = 7
RUN_SECONDS = 0.002
ALPHA = 0.5
#: the least saving, as a share of the slower op, that a fusion rule needs: less is within
#: a run's noise, and a prediction that misses it is off by less than that share
MIN_SAVING = 0.05
#: samples per kernel type, relative: the heavy kernels of real networks get the most
WEIGHTS = {"conv": 5, "pwconv": 6, "dwconv": 5, "gconv": 2, "gpwconv": 2, "fc": 2, "bn": 2, "relu": 1.5,
           "relu6": 1, "hswish": 1, "hsigmoid": 1, "add": 1.5, "mul": 1, "concat": 1,
           "split": 0.5, "shuffle": 1, "maxpool": 1, "avgpool": 0.5, "gap": 1,
           "adaptivepool": 0.5, "lrn": 0.5, "dropout": 0.3}
MIN_SAMPLES = 6
#: budget seconds per synthetic network: on PyTorch each is also thousands of kernel samples
#: in context (:mod:`.incontext`), and takes about 0.6 s; ONNX Runtime exports each first
SECONDS_PER_CONTEXT = {"torch": 1.0, "onnxruntime": 3.0}
#: the most of the time so far the synthetic networks may have taken when the next is due
NETWORK_SHARE = {"torch": 0.6, "onnxruntime": 0.4}
#: of the budget, kept for the sample in flight at the deadline, the fits and the writing,
#: so that the whole command ends within it
SLACK = 0.05
MIN_CONTEXT_NETWORKS, MAX_CONTEXT_NETWORKS = 8, 400
#: the features each kernel type's model uses (the rest: bytes and one)
MODEL_FEATURES = {**{kind: ("macs", "macs_c4", "macs_c16", "bytes", "written", "weights",
                             "cold_weights", "one")
                      for kind in ("conv", "pwconv", "gconv", "gpwconv")},
                  "fc": ("macs", "bytes", "cold_weights", "one"),
                  "dwconv": ("macs", "macs_c4", "macs_c16", "bytes", "written", "planes", "one"),
                  "bn": ("bytes", "planes", "one"),
                  **{kind: ("ops", "bytes", "one") for kind in
                     ("maxpool", "avgpool", "gap", "adaptivepool", "lrn")},
                  "dropout": ("one",)}
DEFAULT_FEATURES = ("bytes", "one")
FUSION_PAIRS = (("conv", "bn"), ("conv", "relu"), ("bn", "relu"), ("dw", "bn"),
                ("dw", "relu"), ("fc", "relu"), ("add", "relu"), ("relu", "maxpool"))


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


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def time_call(call: Callable, args: Sequence, runs: int = RUNS,
              run_seconds: float = RUN_SECONDS, clock: str = "cpu") -> tuple[float, float]:
    """Median seconds per call over ``runs`` runs, and the spread (module doc)."""
    torch = _torch()
    now = CLOCKS[clock]
    with torch.inference_mode():
        start = time.perf_counter()
        call(*args)  # warm up: allocation, first-touch, kernel choice
        first = time.perf_counter() - start
        calls = max(1, min(10_000, int(run_seconds / max(first, 1e-7))))
        per_call = []
        for _ in range(runs):
            start = now()
            for _ in range(calls):
                call(*args)
            per_call.append((now() - start) / calls)
    median = statistics.median(per_call)
    return median, (max(per_call) - min(per_call)) / median


def time_kernel(runtime: str, module, inputs: Sequence, threads: int = 1,
                runs: int = RUNS) -> tuple[float, float]:
    """A kernel alone on ``runtime``: median seconds per call and the spread. PyTorch:
    :func:`time_call`; ONNX Runtime: its profiler's node times (:func:`.runtimes.node_seconds`:
    a kernel alone would pay layout conversions a network pays once)."""
    if runtime == "torch":
        return time_call(module, inputs, runs)
    return node_seconds(module, inputs, threads, runs, RUN_SECONDS, profiler_overhead(threads))


#: ReLUs in the chain that prices a node outside ORT's profiler (:func:`profiler_overhead`)
CHAIN = 41


@functools.lru_cache(maxsize=8)
def profiler_overhead(threads: int = 1) -> float:
    """Seconds ORT's profiler adds to each node's time, measured: a ReLU on 128 elements as
    the profiler times it, less its share of a chain of ``CHAIN`` such ReLUs timed whole
    without the profiler (the chain less a single one, over ``CHAIN − 1``). Here: about 2 µs
    a node (1.8–2.3 µs over runs; the ReLU's own time in a chain is 0.2 µs); a small kernel
    timed alone by the profiler would otherwise carry it into every kernel of every
    prediction."""
    torch = _torch()
    x = torch.randn(1, 8, 4, 4)
    profiled = node_seconds(torch.nn.ReLU(), (x,), threads, RUNS, 2 * RUN_SECONDS)[0]
    one, chain = (time_call(*compiled("onnxruntime", torch.nn.Sequential(
        *[torch.nn.ReLU()] * length), (x,), threads))[0] for length in (1, CHAIN))
    return max(0.0, profiled - (chain - one) / (CHAIN - 1))


def measure(config: Config, runs: int = RUNS, runtime: str = "torch",
            threads: int = 1) -> Sample:
    layer = config.layer()
    seconds, spread = time_kernel(runtime, *callable_of(layer, config.batch), threads, runs)
    return Sample(kernel_type(layer), config, seconds, spread,
                  features((layer,), config.batch))


def _chain_layers(first: str, second: str) -> tuple[Layer, Layer]:
    attrs = {"conv": (("c", 32), ("k", 1)), "dw": (("k", 3),), "fc": (("c", 428),),
             "maxpool": (("k", 3), ("s", 2), ("p", 1))}
    shape = (32, 56, 56) if first != "fc" else (428, 1, 1)
    inputs = (shape, shape) if first == "add" else (shape,)
    a = Config(first, attrs.get(first, ()), inputs).layer()
    out = a.output
    b = Config(second, attrs.get(second, ()), ((int(out.c), int(out.h), int(out.w)),)).layer()
    return a, b


def _chain(first, second):
    """``second(first(*inputs))`` as one module (``nn.Sequential`` takes one input; ``add``
    takes two)."""
    torch = _torch()

    class Chain(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first, self.second = first, second

        def forward(self, *inputs):
            return self.second(self.first(*inputs))
    return Chain().eval()


def fusion_rule(first: str, second: str, runs: int = RUNS, rounds: int = 5,
                runtime: str = "torch", threads: int = 1) -> tuple[str, bool, float]:
    """Whether ``first → second`` runs as one kernel: (rule key, fused, saved fraction of
    the smaller op's time). a, b and a→b are timed in ``rounds`` interleaved rounds; the
    saving ``T(a) + T(b) − T(a→b)`` of each round is averaged, and the rule holds only when
    that mean, less two standard errors, clears ``ALPHA · min(T(a), T(b))``: on a loaded
    machine the noise in a 2 ms convolution is larger than a 20 µs batch norm, and noise
    must not pass for fusion."""
    from .detect import rule_class, rule_key

    a, b = _chain_layers(first, second)
    module_a, inputs = callable_of(a)
    module_b, middle = callable_of(b)
    # on ONNX Runtime the chain is one exported graph, which the runtime may fuse
    timed = ((module_a, inputs), (module_b, middle), (_chain(module_a, module_b), inputs))
    saved, smaller, larger = [], [], []
    for _ in range(rounds):
        t_a, t_b, t_ab = (time_kernel(runtime, module, args, threads, runs)[0]
                          for module, args in timed)
        saved.append(t_a + t_b - t_ab)
        smaller.append(min(t_a, t_b))
        larger.append(max(t_a, t_b))
    mean = statistics.fmean(saved)
    error = statistics.stdev(saved) / len(saved) ** 0.5 if len(saved) > 1 else 0.0
    low = statistics.median(smaller)
    fused = mean - 2 * error > ALPHA * low and mean > MIN_SAVING * statistics.median(larger)
    return rule_key(rule_class(a), rule_class(b)), fused, mean / low


def time_network(network, runs: int = RUNS, runtime: str = "torch",
                 threads: int = 1) -> tuple[float, list[Sample]]:
    """Seconds per forward of ``network`` as ``to_torch`` builds it, on ``runtime`` (median
    of ``runs``), and on PyTorch each of its layers timed inside it (:mod:`.incontext`)."""
    torch = _torch()
    from ..frontends import to_torch
    from .incontext import layer_times, network_samples

    module = to_torch(network)
    x = torch.randn(1, int(network.input.c), int(network.input.h), int(network.input.w))
    seconds = time_call(*compiled(runtime, module, (x,), threads), runs, run_seconds=0.05)[0]
    if runtime != "torch":
        return seconds, []
    return seconds, network_samples(network, layer_times(module.eval(), x))


def plan(rng: random.Random, kinds: Sequence[str]) -> Callable[[], str]:
    """An endless draw of kernel types: first ``MIN_SAMPLES`` of each, then by weight."""
    queue = [kind for _ in range(MIN_SAMPLES) for kind in kinds]
    weights = [WEIGHTS.get(kind, 0.5) for kind in kinds]

    def next_kind() -> str:
        return queue.pop(0) if queue else rng.choices(kinds, weights)[0]
    return next_kind


@dataclass(frozen=True)
class Measured:
    """What a calibration run measured: kernel samples, fusion rules (key, fused, saved
    fraction), synthetic networks with their seconds, and how many drawn samples of each
    kernel type the runtime could not run (:class:`.runtimes.Unsupported`)."""

    samples: tuple[Sample, ...]
    rules: tuple[tuple[str, bool, float], ...]
    context: tuple[tuple[object, float], ...]
    unsupported: tuple[tuple[str, int], ...] = ()
    #: seconds the runtime's profiler adds to a node, taken off every kernel sample (ORT)
    node_overhead: float = 0.0
    #: the allocator state measured in (:func:`.allocator.retain_freed_memory`)
    allocator: str = ""

    def notes(self, budget: float, seed: int) -> dict:
        """What a profile's notes record of this run."""
        return {"budget_seconds": budget, "seed": seed, "samples": len(self.samples),
                "unsupported_samples": dict(self.unsupported),
                "profiler_seconds_per_node": self.node_overhead, "allocator": self.allocator}


def context_networks(budget: float, runtime: str = "torch") -> int:
    """How many synthetic networks a calibration of ``budget`` seconds on ``runtime`` times
    (one per ``SECONDS_PER_CONTEXT`` of the budget less ``SLACK``, within the bounds)."""
    return min(MAX_CONTEXT_NETWORKS, max(MIN_CONTEXT_NETWORKS, int(
        budget * (1 - SLACK) / SECONDS_PER_CONTEXT[runtime])))


def calibrate_samples(budget: float, seed: int = 0, threads: int = 1,
                      progress: Callable[[float, int], None] | None = None,
                      runs: int = RUNS, runtime: str = "torch") -> Measured:
    """Fusion rules, then kernel samples and random synthetic networks (:mod:`.synthetic`,
    one per ``SECONDS_PER_CONTEXT`` of budget, at most ``NETWORK_SHARE`` of the time, at
    least ``MIN_CONTEXT_NETWORKS`` even past the budget) timed whole (on PyTorch also layer
    by layer: kernel samples in context, :mod:`.incontext`), interleaved, until
    ``budget`` seconds less ``SLACK`` of it have passed, all on ``runtime``
    (:mod:`.runtimes`)."""
    from .allocator import retain_freed_memory
    from .sample import draw, prior
    from .synthetic import networks

    torch = _torch()
    torch.set_num_threads(threads)
    allocator = retain_freed_memory()
    start = time.perf_counter()
    # the synthetic networks are timed between the kernel samples, spread over the whole
    # budget, so that a change of load from other jobs affects both alike
    count = context_networks(budget, runtime)
    budget = budget * (1 - SLACK)
    rules = [fusion_rule(a, b, runs, runtime=runtime, threads=threads)
             for a, b in FUSION_PAIRS]
    rng = random.Random(seed)
    kinds = [kind for kind in WEIGHTS if kind in prior()]
    next_kind = plan(rng, kinds)
    samples: list[Sample] = []
    pending = networks(2 * count, seed)  # spares for those the runtime refuses
    count = min(count, len(pending))
    share = NETWORK_SHARE[runtime]
    context = []
    tried = 0  # synthetic networks timed, or refused by the runtime
    unsupported: dict[str, int] = {}
    on_networks = 0.0
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= budget and (len(context) >= min(MIN_CONTEXT_NETWORKS, count)
                                  or tried == len(pending)):
            break
        # network i is due at i/count of the budget, and while the networks have taken
        # less than their share of the time so far (a short budget keeps time for kernels)
        due = len(context) < count and tried < len(pending) and \
            elapsed >= budget * len(context) / count and (
            on_networks <= share * elapsed or elapsed >= budget)
        if due:
            network = pending[tried]
            tried += 1
            before = time.perf_counter()
            try:  # (ONNX has no adaptive pool that does not divide its input: some heads)
                seconds, in_network = time_network(network, runs, runtime, threads)
                context.append((network, seconds))
                samples.extend(in_network)
            except Unsupported:
                unsupported["synthetic network"] = unsupported.get("synthetic network", 0) + 1
            on_networks += time.perf_counter() - before
        else:
            kind = next_kind()
            config = draw(kind, rng)
            try:
                if config is not None:
                    samples.append(measure(config, runs, runtime, threads))
            except Unsupported:
                unsupported[kind] = unsupported.get(kind, 0) + 1
        if progress:
            progress(time.perf_counter() - start, len(samples))
    return Measured(tuple(samples), tuple(rules), tuple(context),
                    tuple(sorted(unsupported.items())),
                    profiler_overhead(threads) if runtime == "onnxruntime" else 0.0,
                    allocator)
