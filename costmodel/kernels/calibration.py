"""From measured kernel samples to a kernel profile: one fit per kernel type (:mod:`.fit`),
the fusion rules and executor overhead as measured (:mod:`.measure`), the machine and the
runtime named."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from .fit import fit_robust
from .measure import DEFAULT_FEATURES, MODEL_FEATURES, Sample
from .profile import KernelModel, KernelProfile


def fit_models(samples: Sequence[Sample]) -> tuple[tuple[str, KernelModel], ...]:
    """One model per kernel type among ``samples`` (types in order of first appearance)."""
    by_kind: dict[str, list[Sample]] = {}
    for sample in samples:
        by_kind.setdefault(sample.kind, []).append(sample)
    models = []
    for kind, group in by_kind.items():
        names = MODEL_FEATURES.get(kind, DEFAULT_FEATURES)
        rows = [[dict(s.features)[n] for n in names] for s in group]
        result = fit_robust(names, rows, [s.seconds for s in group])
        models.append((kind, KernelModel(
            tuple((n, c) for n, c in result.coefficients if c > 0) or (("one", 0.0),),
            len(group), result.median_abs_error, result.max_abs_error,
            statistics.median(s.spread for s in group))))
    return tuple(models)


def profile_from(samples: Sequence[Sample], rules: Sequence[tuple[str, bool, float]],
                 overhead: tuple[float, float], name: str, machine: str, runtime: str,
                 threads: int, method: str, notes: dict | None = None) -> KernelProfile:
    fusion: dict[str, bool] = {}
    for key, fused, _ in rules:
        fusion[key] = fusion.get(key, False) or fused
    return KernelProfile(name, machine, runtime, threads, method, fit_models(samples),
                         tuple(sorted(fusion.items())), overhead[0], overhead[1], "fp32",
                         time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                         tuple((notes or {}).items()))
