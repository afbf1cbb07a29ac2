"""Symbolic derivations by name: the papers' cost formulas, derived from the layer primitives.

Each named derivation (:mod:`costmodel.analysis.derivations`) builds its structure (a
convolution, a separable layer, a bottleneck, a ShuffleNet unit...) from
:func:`costmodel.core.ops.apply` on a symbolic ``Shape(C, H, W)``, exactly as the zoo builds
networks, sums the layers' counts and rewrites the sum into the shape the paper prints
(``H·W·(2Ck + 9k²)``). The paper's form is stored beside it only to *show and test* that the
two are equal; the ``expr`` always comes from the layers. :func:`derive` returns a frozen
:class:`~costmodel.analysis.derivation.Derivation`; :func:`derive_any` also takes a whole
network (:func:`costmodel.analysis.derive_network.derive_network`). The renderings are in
:mod:`costmodel.report.derivation_text`.

Conventions used throughout: stride 1 and "same" padding unless stated; MACs are
multiply-accumulates (1 MAC = 2 FLOPs; the papers' FLOPs and Mult-Adds are MACs).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from ..errors import CostModelError
from ..spec.ref import parse_ref
from ..zoo import names as model_names
from .derivation import Derivation, short_citation
from . import derivations_attention  # noqa: F401  (registers attention, mqa_vs_mhsa)
from .derivations import DERIVATIONS
from .derive_network import derive_network

_CACHE: dict[str, Derivation] = {}


def names() -> tuple[str, ...]:
    """The registered derivation names, in the order of the papers' arguments (from a
    convolution to ShuffleNet v2's guidelines)."""
    return tuple(DERIVATIONS)


def derive(name: str) -> Derivation:
    """The derivation called ``name`` (computed once per process); an unknown name is a user
    error that lists the known ones."""
    if name not in DERIVATIONS:
        near = difflib.get_close_matches(name, DERIVATIONS, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise CostModelError(f"unknown derivation {name!r}; {hint}derivations: "
                             f"{', '.join(DERIVATIONS)} (or a zoo model or .cm file for a whole "
                             "network)")
    if name not in _CACHE:
        _CACHE[name] = DERIVATIONS[name]()
    return _CACHE[name]


def derive_any(name: str, **network_options: Any) -> Derivation:
    """A registered derivation, or else a whole network (zoo model or spec string)."""
    if name in DERIVATIONS:
        return derive(name)
    if parse_ref(name).is_bare_name and name not in model_names():
        if not Path(name).is_file():
            near = difflib.get_close_matches(name, [*DERIVATIONS, *model_names()], n=4,
                                             cutoff=0.6)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise CostModelError(f"unknown derivation or model {name!r}; {hint}derivations: "
                                 f"{', '.join(DERIVATIONS)}; models: costmodel list (or give "
                                 "the path of a .cm file)")
    return derive_network(name, **network_options)


def listing() -> list[dict[str, str]]:
    """Name, title and citation of every registered derivation."""
    return [{"name": name, "title": derive(name).title, "citation": derive(name).citation,
             "source": short_citation(derive(name).citation)} for name in DERIVATIONS]
