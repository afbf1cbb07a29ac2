"""What ``count_torch`` says about a module in its messages: where in the user's code a
forward failed, a call as the user's model writes it, what to know when a forward wanted
integer inputs; and torch's own logging kept quiet while a trace that may fail runs."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..core import ops
from ..safe_io import printable
from .torch_inputs import FLOAT_ONLY


def user_frame(exc: BaseException) -> str:
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


def as_written(call: str) -> str:
    """A call as the user's model writes it, for a warning: ``F.gelu`` for the builtin that
    torch defines as ``torch._C._nn.gelu``, ``torch.x`` for ``torch._C._VariableFunctions.x``."""
    owner, _, name = call.rpartition(".")
    if owner.startswith("torch._C") and name and not name.startswith("_"):
        for prefix, namespace in (("F", nn.functional), ("torch", torch)):
            if callable(getattr(namespace, name, None)):
                return f"{prefix}.{name}"
    return call


@contextlib.contextmanager
def quiet_torch_logs():
    """No log record below CRITICAL while inside (torch's fake tensors log a failing op with
    its traceback on stderr, through a handler that redirect_stderr does not reach)."""
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(previous)


def dtype_hint(exc: BaseException) -> str:
    """What to know when a forward failed for want of integer inputs."""
    text = str(exc)
    wanted = ("indices", "Long", "Int", "scalar type")
    return f" ({FLOAT_ONLY})" if any(w in text for w in wanted) else ""
