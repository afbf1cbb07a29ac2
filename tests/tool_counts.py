"""Run the real counters on a module: each function returns the tool's own (MACs, params).

Checked with fvcore 0.1.5 (post20221221), thop 0.1.1 (thop-0.1.1.post2209072238), ptflops 0.7.5,
torchprofile 0.1.0, calflops 0.3.2 and torch 2.13.0. Each is called as its README shows, on a
1×3×R×R input (or the whole input shape given instead of R) in eval mode; their printing
is silenced. Where a tool reports no parameter
count (torchprofile, FlopCounterMode), ``sum(p.numel() for p in model.parameters())`` stands
in, which is what the conventions state for them.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

# One thread: on a shared CI machine torch's default thread pool spins against the other
# processes (a ResNet-50 forward at 97 px took 1 s with 2 threads, 0.07 s with one).
torch.set_num_threads(1)


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def _shape(resolution) -> tuple[int, ...]:
    """The input: 1×3×R×R for a resolution R, or a whole shape (N, C, ...) as given."""
    return (1, 3, resolution, resolution) if isinstance(resolution, int) else tuple(resolution)


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _whole(value) -> int:
    assert float(value) == int(value), value
    return int(value)


def torch_flop_counter(model, resolution):
    from torch.utils.flop_counter import FlopCounterMode

    with _quiet(), torch.no_grad(), FlopCounterMode(display=False) as mode:
        model.eval()(torch.zeros(_shape(resolution)))
    flops = mode.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, _params(model)


def fvcore(model, resolution):
    from fvcore.nn import FlopCountAnalysis, parameter_count

    with _quiet():
        analysis = FlopCountAnalysis(model.eval(), torch.zeros(_shape(resolution)))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return _whole(analysis.total()), parameter_count(model)[""]


def thop(model, resolution):
    from thop import profile

    with _quiet():
        macs, params = profile(model, inputs=(torch.zeros(_shape(resolution)),),
                               verbose=False)
    return _whole(macs), _whole(params)


def ptflops(model, resolution, backend="pytorch"):
    from ptflops import get_model_complexity_info

    with _quiet():
        macs, params = get_model_complexity_info(
            model, _shape(resolution)[1:], as_strings=False, backend=backend,
            print_per_layer_stat=False, verbose=False)
    return _whole(macs), _whole(params)


def ptflops_aten(model, resolution):
    return ptflops(model, resolution, backend="aten")


def torchprofile(model, resolution):
    from torchprofile import profile_macs

    with _quiet():
        macs = profile_macs(model.eval(), torch.zeros(_shape(resolution)))
    return _whole(macs), _params(model)


def calflops(model, resolution):
    from calflops import calculate_flops

    with _quiet():
        _flops, macs, params = calculate_flops(model, input_shape=_shape(resolution),
                                               output_as_string=False, print_results=False,
                                               print_detailed=False)
    return _whole(macs), _whole(params)


#: convention name -> the function that runs that tool
TOOLS = {"torch": torch_flop_counter, "fvcore": fvcore, "thop": thop, "ptflops": ptflops,
         "ptflops-aten": ptflops_aten, "torchprofile": torchprofile, "calflops": calflops}
