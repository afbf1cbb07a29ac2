"""Kernels timed where they run: each layer of a network, inside the network's forward pass.

A kernel timed alone, called again and again on the same tensors, runs hot: its weights and
input stay in the caches and its output lands in the buffer the last call freed. Inside a
network its weights come cold from memory, its output goes to a buffer other layers used,
and on this machine that is most of what a network costs beyond its kernels timed alone
(ResNet-101 at 112 px: 64 ms a forward against 46 ms for its layers alone; each 1×1
convolution 48% slower inside the network, each batch norm 3×). No per-byte term fitted on a
few whole networks priced that reliably (issue 19's notes: the same measurements predicted
within ±10% for 29–57% of the test networks, by profile). So PyTorch calibration also runs
random synthetic networks (:mod:`.synthetic`) step by step, the thread's CPU time read around
every layer's call, and each layer so timed is a kernel sample of its type: thousands of
samples measured in context, fitted like the kernels alone (:mod:`.calibration`).

The executor's own time (the Python between the layers, the call of the whole module) is
what the network's forward pass, timed untouched by :func:`.measure.time_call`, takes beyond
the sum of its layers: the in-context fit prices it per layer and per forward.
"""

from __future__ import annotations

import statistics
import time

from .detect import features, kernel_type, weight_bytes
from .sample import Sample

#: instrumented forward passes per network, the first ``WARM`` of them not counted
PASSES, WARM = 12, 2
#: calls of an empty function that price the clock read around every layer
EMPTY_CALLS = 500


def _clock_cost(now) -> float:
    """Seconds the two clock reads around a call add to it: the median over an empty call."""
    def empty() -> None:
        return None
    costs = []
    for _ in range(EMPTY_CALLS):
        start = now()
        empty()
        costs.append(now() - start)
    return statistics.median(costs)


def layer_times(module, x, passes: int = PASSES) -> dict[str, tuple[float, float]]:
    """Each step of ``module`` (a :func:`costmodel.frontends.to_torch` module) timed inside
    its forward pass on ``x``: step name → (median seconds less the clock's own cost, spread
    ``(slowest − fastest) / median``), over ``passes − WARM`` passes."""
    import torch

    now = time.thread_time
    per_step: dict[str, list[float]] = {step.name: [] for step in module.steps}

    def timed(step, function, args):
        start = now()
        out = function(*args)
        per_step[step.name].append(now() - start)
        return out
    with torch.inference_mode():
        for _ in range(passes):
            module.run(x, call=timed)
        clock = _clock_cost(now)
    out = {}
    for name, times in per_step.items():
        kept = times[WARM:]
        median = statistics.median(kept)
        out[name] = (max(median - clock, 1e-9),
                     (max(kept) - min(kept)) / median if median > 0 else 0.0)
    return out


def network_samples(network, times: dict[str, tuple[float, float]]) -> list[Sample]:
    """A kernel sample of each layer of ``network`` that :func:`layer_times` timed (every
    layer its own kernel: PyTorch eager fuses nothing)."""
    samples = []
    footprint = weight_bytes(network)
    for layer in network.layers:
        if layer.name not in times:
            continue
        seconds, spread = times[layer.name]
        samples.append(Sample(kernel_type(layer), None, seconds, spread,
                              features((layer,), footprint=footprint), where="network"))
    return samples
