"""The ``file.py:factory`` SPEC: a function in the user's own Python file that returns an
``nn.Module``, traced by :func:`~costmodel.frontends.torch_trace.trace_torch`.

That file is imported (it runs: it is the user's own Python), and no other: costmodel never
imports a ``.py`` file that a SPEC does not name. ``.cm`` files, by contrast, are data and
never run.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from ..core.network import Network
from ..errors import CostModelError
from ..safe_io import printable
from ..spec.ref import SpecRef
from .torch_trace import seeded_rng, trace_torch

DEFAULT_INPUT = (1, 3, 224, 224)
_LOADED: dict[Path, Any] = {}


@dataclass(frozen=True)
class TorchFileRef:
    """A ``file.py:factory[:key=value,...]`` SPEC: the factory's module traced on demand.
    ``resolution=`` sets the input's side; other values go to the factory as keywords."""

    path: str
    factory: str
    values: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        from ..safe_io import printable  # a file name is text from outside: shown in tables

        return f"{printable(Path(self.path).stem)}:{self.factory}"

    def config(self) -> dict[str, Any]:
        return {key: _number(value) for key, value in self.values}

    #: its forward may take several inputs: ``build`` takes a tuple of shapes too
    several_inputs = True

    def build(self, input_shape: Sequence[Any] | None = None, **overrides: Any) -> Network:
        """The module the factory returns, traced on ``input_shape``: one shape, or a tuple
        of shapes (one per input of its forward); ``resolution=`` sets the first input's
        height and width."""
        values = {**self.config(), **overrides}
        several = bool(input_shape) and isinstance(input_shape[0], (tuple, list))
        shapes = [list(s) for s in input_shape] if several else \
            [list(input_shape or DEFAULT_INPUT)]
        size = shapes[0]
        if "resolution" in values:
            resolution = values.pop("resolution")
            if not (isinstance(resolution, int) or getattr(resolution, "is_Integer", False)):
                raise CostModelError(f"{self.name}: a traced module is counted at a numeric "
                                     f"resolution only, got resolution={resolution}")
            size[2:] = [int(resolution)] * 2
        factory = self._factory()
        try:
            with seeded_rng():  # the same weights every run: a branch on them goes one way
                module = factory(**values)
        except Exception as exc:  # noqa: BLE001 - the user's factory: report, don't crash
            raise CostModelError(f"{self.name}: {_user_frame(exc, Path(self.path))}calling "
                                 f"{self.factory}"
                                 f"({', '.join(f'{k}={v!r}' for k, v in values.items())}) "
                                 f"raised {type(exc).__name__}: {exc}") from None
        if not isinstance(module, nn.Module):
            raise CostModelError(f"{self.name}: {self.factory}() returned "
                                 f"{printable(type(module).__name__)}, not an nn.Module")
        shape = tuple(map(tuple, shapes)) if several else tuple(size)
        return trace_torch(module, shape, self.name, tuple(values.items())).network

    def _factory(self):
        module = _import_file(Path(self.path))
        factory = getattr(module, self.factory, None)
        if not callable(factory):
            found = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_") and
                           getattr(v, "__module__", None) == module.__name__)
            raise CostModelError(f"{self.path} has no function {self.factory!r}; its functions "
                                 f"and classes: {', '.join(found) or 'none'}")
        return factory


def _user_frame(exc: BaseException, path: Path) -> str:
    """Where in the user's own file ``exc`` was raised, ``net.py:22 in broken: return
    Net(5); `` (the innermost frame of that file), else nothing: the user's line comes first,
    never a traceback of costmodel's or torch's frames."""
    import traceback

    key = str(path.resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == key]
    if not frames:
        return ""
    frame = frames[-1]
    line = f": {printable(frame.line, 120)}" if frame.line else ""
    return f"{printable(path.name)}:{frame.lineno} in {printable(frame.name)}{line}; "


def _import_file(path: Path):
    """Import exactly the file the user named (it runs: it is their own Python). The file is
    read as any input is (a regular file of at most MAX_PYTHON_FILE_BYTES, UTF-8), so a pipe,
    a directory, a huge or a binary file is one clear error line, not a hang or a
    traceback."""
    from .. import limits
    from ..safe_io import printable, read_text_bounded

    key = path.resolve()
    if key in _LOADED:
        return _LOADED[key]
    shown = printable(path, limits.MAX_QUOTED_PATH_CHARS)
    source = read_text_bounded(path, limits.MAX_PYTHON_FILE_BYTES, "Python file",
                               "MAX_PYTHON_FILE_BYTES")
    spec = importlib.util.spec_from_file_location(f"costmodel_user_{len(_LOADED)}_{key.stem}",
                                                  key)
    module = importlib.util.module_from_spec(spec)
    try:
        code = compile(source, str(key), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CostModelError(f"{shown}:{exc.lineno or '?'}: not valid Python: "
                             f"{printable(exc.msg)}") from None
    except ValueError as exc:  # a NUL byte
        raise CostModelError(f"{shown}: not valid Python: {printable(exc)}") from None
    try:
        exec(code, module.__dict__)  # noqa: S102 - the user's own file, named in the SPEC
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's file: report, don't crash
        from ..extras import missing_from

        hint = missing_from(exc, f"{shown}: running the file") \
            if isinstance(exc, ImportError) else None
        if hint is not None:
            raise hint from None
        raise CostModelError(f"{shown}: {_user_frame(exc, path)}running the file raised "
                             f"{type(exc).__name__}: {printable(exc, 200)}") from None
    _LOADED[key] = module
    return module


def _number(text: str) -> Any:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def load(ref: SpecRef) -> TorchFileRef:
    """The front end of ``.py`` SPECs (:mod:`.registry`): the file and factory the SPEC names
    (:func:`costmodel.spec.ref.parse_ref` checked the factory is an identifier), with its
    values."""
    return TorchFileRef(ref.target, ref.factory, ref.settings)
