"""The optional dependencies (pyproject's extras) and what to say when one is missing.

costmodel is not published on the package registry under a name it owns (a package named
``costmodel`` there is an unrelated project), so every hint says what works from a checkout,
``pip install '.[onnx]'``, or names the dependency itself.
"""

from __future__ import annotations

from .errors import CostModelError

#: Top-level module -> (the extra in pyproject.toml, the registry package, what needs it).
EXTRAS: dict[str, tuple[str, str, str]] = {
    "torch": ("torch", "torch", "counting a PyTorch module (a file.py:factory SPEC, "
                                "to_torch, count_torch)"),
    "onnx": ("onnx", "onnx", "reading an ONNX file"),
    "onnxruntime": ("onnxruntime", "onnxruntime",
                    "measuring kernels on ONNX Runtime (calibrate --runtime onnxruntime)"),
    "pyarrow": ("parquet", "pyarrow", "writing Parquet"),
}


def install_hint(module: str) -> str:
    """``pip install '.[onnx]' from a costmodel checkout (or pip install onnx)``."""
    extra, package, _ = EXTRAS[module]
    return f"pip install '.[{extra}]' from a costmodel checkout (or pip install {package})"


def missing(module: str, doing: str | None = None) -> CostModelError:
    """The one-line error for a missing optional dependency: what needs it and how to
    install it."""
    _, package, needs = EXTRAS[module]
    return CostModelError(f"{doing or needs} needs {package}, which is not installed: "
                          f"{install_hint(module)}")


def missing_from(exc: ImportError, doing: str | None = None) -> CostModelError | None:
    """The error for ``exc`` when it is an optional dependency (or a module inside one) that
    is not installed; None for anything else (a bug, or the user's own import)."""
    name = getattr(exc, "name", None) or ""
    root = name.partition(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or root not in EXTRAS:
        return None
    return missing(root, doing)
