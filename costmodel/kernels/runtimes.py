"""The runtimes calibration measures kernels and networks with: PyTorch eager, and ONNX Runtime
(the CPU runtime engineers deploy with; an optional extra, ``pip install '.[onnxruntime]'``).

Both start from the same module, the one :func:`costmodel.frontends.to_torch` builds for a
layer or a network (one definition of each op), in eval mode. PyTorch calls it as it is.
ONNX Runtime runs what ``torch.onnx.export`` writes of it (the TorchScript exporter, opset
``OPSET``, constants folded: batch norm after a convolution folded into it, as every
deployment export does), in one ``InferenceSession`` with the CPU provider, every graph
optimization on (ORT's default: its own fusions and, on x86, the NCHWc layout), sequential
execution and ``intra_op_num_threads`` threads. With one thread ORT computes on the calling
thread, so the thread's CPU time measures a whole network as it measures PyTorch
(:mod:`.measure`).

A kernel alone is timed differently on ORT: by ORT's own profiler, the sum of its nodes'
kernel times per call, leaving out the layout nodes (``ReorderInput``, ``ReorderOutput``).
ORT runs convolutions in a blocked channel layout (NCHWc) and converts a map into it and back
at the edges of each run of such kernels; a kernel alone has both edges, which cost as much
as a depthwise convolution itself (87 µs for a 96-channel 56² one, 74 µs of reorders around
it, here), while a network pays them once per run of NCHWc kernels. Nor does the Python
call's own cost (``session.run``, 5 µs) belong to each kernel. What a network pays once or
at its edges is left to the in-context terms fitted on whole networks
(:func:`costmodel.kernels.calibration.fit_context`).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence

from ..errors import CostModelError

RUNTIMES = ("torch", "onnxruntime")
OPSET = 17
#: ORT's layout conversions, which a kernel alone pays at both edges (module doc)
LAYOUT_NODES = ("ReorderInput", "ReorderOutput")
#: calls per profiled run: the profile holds a few events per call, read back whole
MAX_PROFILED_CALLS = 200
#: the least time a kernel alone is given: one the runtime optimizes away (a dropout) or
#: one faster than the profiler's own cost per node would time as 0, which no relative fit
#: can take; 0.1 µs is a tenth of the profiler's resolution
FLOOR_SECONDS = 1e-7


class Unsupported(CostModelError):
    """A module the runtime cannot run: ONNX has no form for it (an adaptive pool whose
    output size does not divide its input's, say). Calibration draws another sample; the
    kernel type stays without a model if no sample of it runs, and is then named unknown."""


def check(runtime: str) -> None:
    """Refuse, before any work, a runtime that is unknown or not installed."""
    import importlib.util

    from ..extras import missing
    from ..safe_io import printable

    if runtime not in RUNTIMES:
        raise CostModelError(f"--runtime '{printable(runtime, 40)}': use "
                             f"{' or '.join(RUNTIMES)}")
    needed = ("torch",) + (("onnx", "onnxruntime") if runtime == "onnxruntime" else ())
    for name in needed:
        if importlib.util.find_spec(name) is None:
            raise missing(name, f"calibrate --runtime {runtime}")


def label(runtime: str) -> str:
    """The runtime and its version as a profile names it."""
    import torch

    if runtime == "torch":
        return f"torch {torch.__version__} eager (inference_mode)"
    import onnxruntime

    return (f"onnxruntime {onnxruntime.__version__} CPU provider, all graph optimizations; "
            f"torch {torch.__version__} torch.onnx export (opset {OPSET})")


def compiled(runtime: str, module, inputs: Sequence, threads: int = 1
             ) -> tuple[Callable, tuple]:
    """``module`` ready to time on ``runtime``: a call and the arguments it takes."""
    if runtime == "torch":
        return module, tuple(inputs)
    session, feeds = _session(module, inputs, threads)
    return (lambda: session.run(None, feeds)), ()


def exportable(module):
    """``module`` with every ``nn.ChannelShuffle`` in torchvision's view-transpose-view form
    (the same permutation): the TorchScript exporter has no symbolic for
    ``aten::channel_shuffle``. Changed in place; the module is the caller's own copy."""
    import torch

    from ..core.torch_forms import channel_shuffle

    class Shuffle(torch.nn.Module):
        def __init__(self, groups: int) -> None:
            super().__init__()
            self.groups = groups

        def forward(self, x):
            return channel_shuffle(x, self.groups)

    if isinstance(module, torch.nn.ChannelShuffle):
        return Shuffle(module.groups)
    for name, child in list(module.named_children()):
        replaced = exportable(child)
        if replaced is not child:
            setattr(module, name, replaced)
    return module


def seconds_per_call(events: Sequence[dict], node_overhead: float = 0.0) -> list[float]:
    """Seconds of each ``session.run`` in ORT's profile ``events``: its nodes' kernel times
    summed, each less ``node_overhead`` (what profiling adds to a node, at least 0), the
    layout nodes left out. A call's node events come before its ``model_run`` event, which
    closes it."""
    per_call, current = [], 0.0
    for event in events:
        if event.get("cat") == "Node" and str(event.get("name", "")).endswith("_kernel_time"):
            if event.get("args", {}).get("op_name") not in LAYOUT_NODES:
                current += max(0.0, float(event["dur"]) * 1e-6 - node_overhead)
        elif event.get("cat") == "Session" and event.get("name") == "model_run":
            per_call.append(current)
            current = 0.0
    return per_call


def node_seconds(module, inputs: Sequence, threads: int, runs: int, run_seconds: float,
                 node_overhead: float = 0.0) -> tuple[float, float]:
    """Median seconds per call of ``module``'s nodes on ORT, layout nodes left out, over
    ``runs`` runs of about ``run_seconds`` (after one warm-up call), and the spread
    ``(slowest − fastest) / median`` of the runs: ORT's profiler, module doc."""
    with tempfile.TemporaryDirectory(prefix="costmodel-ort-") as folder:
        session, feeds = _session(module, inputs, threads, os.path.join(folder, "profile"))
        start = time.perf_counter()
        session.run(None, feeds)  # warm up: first-touch pages, the kernels' own set-up
        first = time.perf_counter() - start
        calls = max(1, min(MAX_PROFILED_CALLS, int(run_seconds / max(first, 1e-7))))
        for _ in range(runs * calls):
            session.run(None, feeds)
        with open(session.end_profiling(), encoding="utf-8") as f:
            events = json.load(f)
    per_call = seconds_per_call(events, node_overhead)[1:]  # the warm-up call left out
    if len(per_call) != runs * calls:
        raise RuntimeError(f"ORT's profile holds {len(per_call)} runs, not {runs * calls}")
    per_run = [max(FLOOR_SECONDS, statistics.fmean(per_call[r * calls:(r + 1) * calls]))
               for r in range(runs)]
    median = statistics.median(per_run)
    return median, (max(per_run) - min(per_run)) / median


def _refuse_unexportable(module, inputs: Sequence) -> None:
    """Raise :class:`Unsupported` for what the exporter would refuse, before it runs (its
    refusal prints the whole TorchScript graph to the process's stderr, which nothing here
    can catch): an adaptive pool whose output size does not divide its input's, which ONNX
    has no operator for."""
    import torch

    pools = (torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d)
    found: list[str] = []

    def always_divides(pool) -> bool:  # a global pool (output 1): no forward pass needed
        size = pool.output_size
        return all(w in (1, None) for w in (size if isinstance(size, tuple) else (size,)))

    def check(pool, args, _output) -> None:
        sizes = tuple(args[0].shape[-2:])
        wanted = pool.output_size if isinstance(pool.output_size, tuple) else \
            (pool.output_size,) * 2
        if any(w is not None and size % w for size, w in zip(sizes, wanted)):
            found.append(f"{type(pool).__name__} from {sizes[0]}×{sizes[1]} to "
                         f"{wanted[0]}×{wanted[1]}")
    hooks = [m.register_forward_hook(check) for m in module.modules()
             if isinstance(m, pools) and not always_divides(m)]
    if not hooks:
        return
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for hook in hooks:
            hook.remove()
    if found:
        raise Unsupported(f"ONNX has no adaptive pool whose output size does not divide its "
                          f"input's ({found[0]})")


def _session(module, inputs: Sequence, threads: int, profile: str | None = None):
    import onnxruntime
    import torch

    _refuse_unexportable(module, inputs)

    names = [f"input{i}" for i in range(len(inputs))]
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on its own deprecation
        try:
            torch.onnx.export(exportable(module), tuple(inputs), buffer, dynamo=False,
                              opset_version=OPSET, input_names=names,
                              do_constant_folding=True)
        except torch.onnx.errors.OnnxExporterError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Unsupported(f"torch.onnx cannot export it: {first[:200]}") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: ORT's notes would cross the progress bar
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = profile
    session = onnxruntime.InferenceSession(buffer.getvalue(), options,
                                           providers=["CPUExecutionProvider"])
    feeds = {name: x.detach().numpy() for name, x in zip(names, inputs)}
    return session, feeds
