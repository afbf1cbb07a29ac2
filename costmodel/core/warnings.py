"""What a count leaves out or assumes, as values: the warnings a Network carries.

A front end that cannot count something (a PyTorch call with no rule, an ONNX node with no
formula), or that counted along one path of many (a module traced with forward hooks), says so
with a :class:`CostWarning`, kept on the Network beside its plain notes. Every output carries
them: ``--format json`` as objects (:meth:`CostWarning.record`), CSV as ``# warning: ...``
comment lines, tables as notes, and every command prints each once on stderr
(:meth:`CostWarning.text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

#: What a warning is about (its ``kind``):
#: ``uncounted``: calls or ops no rule or formula counts (``subject`` names them, ``count``
#: says how many); ``traced_with_hooks``: torch.fx could not trace the module, so functional
#: calls are missing; ``data_dependent``: the count follows the path one input took;
#: ``measured_differs`` / ``params_differ``: torch's own measure differs from the count;
#: ``per_image``: ``--input`` gave a batch N > 1 and the counts are for one image;
#: ``noted``: a warning written in a layer-spec file (``note warning: ...``);
#: ``not_called``: parameters of modules the forward pass never called (counted, as
#: ``parameters()`` holds them, by ``parameter`` layers); ``fused_attention``: attention
#: counted as its matmuls, which torch's FlopCounterMode does not see on its fused paths.
KINDS = ("uncounted", "traced_with_hooks", "data_dependent", "measured_differs",
         "params_differ", "per_image", "noted", "not_called", "fused_attention")

#: How many layer names a warning's text lists before "and N more" (the JSON lists them all).
SHOWN_NAMES = 4

#: A layer-spec ``note`` that begins with this is a warning of the network it builds
#: (``costmodel import`` writes the original's warnings so).
NOTE_PREFIX = "warning:"


@dataclass(frozen=True)
class CostWarning:
    """One thing a count leaves out or assumes: its ``kind`` (one of :data:`KINDS`), the call
    or op it is about (``F.gelu``, ``Softmax``; empty when about the whole network), how many
    of them (0 when not a count), what it means, and the layers it concerns."""

    kind: str
    subject: str = ""
    count: int = 0
    detail: str = ""
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown warning kind {self.kind!r}; known: {', '.join(KINDS)}")

    def text(self) -> str:
        """One line, every piece from outside sanitised: ``not counted: F.gelu × 2
        (blocks.0.gelu1, blocks.1.gelu1): no rule for this call``."""
        from ..safe_io import printable

        shown = ", ".join(printable(name) for name in self.names[:SHOWN_NAMES])
        if len(self.names) > SHOWN_NAMES:
            shown += f" and {len(self.names) - SHOWN_NAMES} more"
        if self.kind == "uncounted":
            head = f"not counted: {printable(self.subject)} × {self.count}"
            head += f" ({shown})" if shown else ""
            return printable(f"{head}: {self.detail}" if self.detail else head, None)
        return printable(self.detail, None)

    def record(self) -> dict[str, Any]:
        """The JSON object: kind, subject, count, names, and the text as ``message``."""
        return {"kind": self.kind, "subject": self.subject, "count": self.count,
                "names": list(self.names), "message": self.text()}


def from_note(note: str) -> CostWarning | None:
    """The warning a layer-spec note stands for (``note warning: ...``), else None."""
    if not note.startswith(NOTE_PREFIX):
        return None
    return CostWarning("noted", detail=note[len(NOTE_PREFIX):].strip())


def as_note(warning: CostWarning) -> str:
    """A warning as a layer-spec note that :func:`from_note` reads back."""
    return f"{NOTE_PREFIX} {warning.text()}"


def per_image(batch: int) -> CostWarning:
    """``--input`` gave a batch of ``batch`` > 1 images: counts stay per image."""
    return CostWarning("per_image", count=batch, detail=(
        f"counts are per image: --input gives a batch of {batch}, and MACs, FLOPs, "
        f"activations, traffic and peak memory are for one image (× {batch} for the batch; "
        "params are shared); `costmodel latency` takes the batch as --batch"))


def labelled(networks: Iterable[Any]) -> tuple[str, ...]:
    """Each warning of ``networks`` (Networks, or anything with ``name`` and ``warnings``)
    once, as one sanitised line naming its network: ``vit: not counted: Softmax × 12: ...``."""
    from ..safe_io import printable

    lines = (f"{printable(network.name)}: {warning.text()}"
             for network in networks for warning in network.warnings)
    return tuple(dict.fromkeys(lines))


def records(network: Any) -> list[dict[str, Any]]:
    """A network's warnings as JSON objects (:meth:`CostWarning.record`)."""
    return [warning.record() for warning in network.warnings]
