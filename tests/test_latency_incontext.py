"""Kernels timed inside a network (costmodel/kernels/incontext.py), the allocator state they
are measured in (costmodel/kernels/allocator.py) and the to_torch executor they run in. No
time is asserted beyond its sign (timing belongs in benchmarks/latency_evidence.py)."""

from __future__ import annotations

import platform

import pytest
import torch

from costmodel.frontends import to_torch
from costmodel.kernels.allocator import retain_freed_memory
from costmodel.kernels.detect import kernel_type
from costmodel.kernels.incontext import layer_times, network_samples
from costmodel.kernels.measure import time_network
from costmodel.spec import build, parse_text

pytestmark = pytest.mark.slow

TOY = """model toy
input 3 32 40
conv 16 k=3 s=2 bn=1 act=relu name=stem
inverted_residual 4 24 s=2
gap
fc 10
"""


def test_every_layer_is_timed_inside_the_network_as_a_sample_of_its_type():
    network = build(parse_text(TOY))
    module = to_torch(network).eval()
    times = layer_times(module, torch.randn(1, 3, 32, 40), passes=4)
    assert list(times) == [step.name for step in module.steps]
    assert all(seconds > 0 and spread >= 0 for seconds, spread in times.values())
    samples = network_samples(network, times)
    assert [s.kind for s in samples] == [kernel_type(layer) for layer in network.layers]
    assert {s.where for s in samples} == {"network"} and all(s.config is None for s in samples)


def test_a_synthetic_network_is_timed_whole_and_layer_by_layer_on_torch_only():
    network = build(parse_text(TOY))
    seconds, samples = time_network(network, runs=2)
    assert seconds > 0 and len(samples) == len(network.layers)


def test_the_executor_runs_a_submodule_replaced_after_construction():
    module = to_torch(build(parse_text(TOY))).eval()
    x = torch.randn(1, 3, 32, 40)
    path = next(step.path for step in module.steps if step.op == "fc")
    old = module.get_submodule(path)
    module.set_submodule(path, torch.nn.Linear(old.in_features, 3))  # a new head, by hand
    with torch.inference_mode():
        assert module(x).shape == (1, 3)


def test_freed_memory_is_kept_and_the_profile_says_so():
    described = retain_freed_memory()
    assert described == retain_freed_memory()  # set once
    glibc = platform.libc_ver()[0] == "glibc"
    assert (described.startswith("glibc ") and "freed memory kept" in described) == glibc
    assert glibc or "not glibc" in described
