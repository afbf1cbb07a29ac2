"""From measured kernel samples to a kernel profile: one fit per kernel type (:mod:`.fit`),
the fusion rules and executor overhead as measured (:mod:`.measure`), the machine and the
runtime named."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from dataclasses import replace

from .detect import COLD, WRITTEN, cold_share
from .fit import LinearFit, fit_offset_robust, fit_robust
from .measure import DEFAULT_FEATURES, MODEL_FEATURES, Sample
from .profile import KernelModel, KernelProfile, predict

#: what a kernel in a network pays beyond its time alone: per byte it writes, per layer
#: the executor steps, per forward
CONTEXT = ("written", "layers", "one")


#: the cache sizes calibration tries (bytes of a network's weights kept between forward
#: passes; 0: none read cold), the one that predicts the synthetic networks best kept
CACHE_CANDIDATES = (0.0, *(float(2**20 * mib) for mib in (4, 8, 16, 32, 64, 128)))
#: samples timed inside networks a kernel type needs for its in-context terms to be fitted
MIN_IN_NETWORK = 30
#: what a kernel pays inside a network beyond its time alone, fitted per type on its samples
#: timed in networks: a factor on the time alone, per byte of weights read cold (the types
#: whose model has the feature) and per call. A term per byte written fitted worse (on three
#: measurement sets 43/82/86% of the test networks within ±10% with it, 25/86/93% without:
#: the synthetic grouped convolutions are few and small, and it priced ResNeXt's at 3×)
IN_NETWORK = ("alone", COLD, "one")


def samples_by_type(samples: Sequence[Sample]
                    ) -> dict[str, tuple[list[Sample], list[Sample]]]:
    """Each kernel type's samples timed alone and timed inside networks (types in order of
    first appearance)."""
    by_kind: dict[str, tuple[list[Sample], list[Sample]]] = {}
    for sample in samples:
        alone, network = by_kind.setdefault(sample.kind, ([], []))
        (network if sample.where == "network" else alone).append(sample)
    return by_kind


def in_network_types(samples: Sequence[Sample]) -> list[str]:
    """The kernel types whose models are refitted in context (:func:`fit_type`)."""
    return [kind for kind, (alone, network) in samples_by_type(samples).items()
            if alone and len(network) >= MIN_IN_NETWORK]


def _row(sample: Sample, names: Sequence[str], cache_bytes: float) -> list[float]:
    values = dict(sample.features)
    values[COLD] = values["weights"] * cold_share(values["footprint"], cache_bytes)
    return [values[n] for n in names]


def _model(coefficients: dict[str, float], fitted: LinearFit,
           group: Sequence[Sample]) -> KernelModel:
    return KernelModel(tuple((n, c) for n, c in coefficients.items() if c > 0)
                       or (("one", 0.0),), len(group), fitted.median_abs_error,
                       fitted.max_abs_error, statistics.median(s.spread for s in group))


def fit_type(kind: str, alone: Sequence[Sample], network: Sequence[Sample],
             cache_bytes: float) -> KernelModel:
    """One kernel type's model, in two stages. First on its samples timed alone: they are
    drawn from broad ranges of shape (channels not a multiple of 4 or 16 among them), so they
    fix how the time grows with each feature. Then, where the type has ``MIN_IN_NETWORK``
    samples timed inside networks, those fit the few terms of :data:`IN_NETWORK` on top: the
    time alone times a factor, plus the weights read cold and a cost per call. The model
    is still linear in the features (the factor times each first-stage coefficient, plus
    the in-context ones).

    Why two stages: the in-network samples come from a few hundred synthetic layers whose
    features move together (a wider layer has more MACs, bytes and weights alike), and a fit
    of all the features on them alone flipped between unlike solutions from noise alone (a
    depthwise model with no MAC term and an 80 µs intercept; five calibrations of the same
    networks gave 14–71% of the test networks within ±10%). On four measurement sets
    (benchmarks/latency_repeat.py) the two stages alone, with a per-byte-written term and
    before the fusion and context-factor fixes, gave 46–86% against 25–79% for the one-stage
    fit; with all of them, seven sets gave 64–93%."""
    names = MODEL_FEATURES.get(kind, DEFAULT_FEATURES)
    if not alone:  # a type only networks have: fitted on them, in one stage
        alone, network = network, ()
    first = fit_robust(names, [_row(s, names, cache_bytes) for s in alone],
                       [s.seconds for s in alone])
    coefficients = dict(first.coefficients)
    if len(network) < MIN_IN_NETWORK:
        return _model(coefficients, first, alone)
    extra = [n for n in IN_NETWORK[1:] if n != COLD or COLD in names]
    both = list(dict.fromkeys([*names, *extra]))
    rows = []
    for sample in network:
        values = dict(zip(both, _row(sample, both, cache_bytes)))
        rows.append([sum(coefficients[n] * values[n] for n in names)] + [values[n] for n in extra])
    second = fit_robust(["alone", *extra], rows, [s.seconds for s in network])
    terms = dict(second.coefficients)
    combined = {n: terms["alone"] * coefficients[n] for n in names}
    for name in extra:
        combined[name] = combined.get(name, 0.0) + terms[name]
    return _model(combined, second, network)


def fit_models(samples: Sequence[Sample], cache_bytes: float = 0.0,
               fixed: dict[str, KernelModel] | None = None
               ) -> tuple[tuple[str, KernelModel], ...]:
    """One model per kernel type among ``samples`` (:func:`fit_type`), the weights beyond
    ``cache_bytes`` of each sample's network read cold; a type in ``fixed`` keeps its model
    there (a type without ``cold_weights`` fits the same for every cache)."""
    fixed = fixed or {}
    return tuple((kind, fixed.get(kind) or fit_type(kind, alone, network, cache_bytes))
                 for kind, (alone, network) in samples_by_type(samples).items())


def _cache_free_models(samples: Sequence[Sample]) -> dict[str, KernelModel]:
    """The models of the types whose features do not read the cache, fitted once."""
    return {kind: fit_type(kind, alone, network, 0.0)
            for kind, (alone, network) in samples_by_type(samples).items()
            if COLD not in MODEL_FEATURES.get(kind, DEFAULT_FEATURES)}


def fit_context(profile: KernelProfile, context, timed_inside: bool = False
                ) -> tuple[KernelProfile, tuple[float, ...]]:
    """``profile`` with the in-context terms fitted on whole networks ``context`` (pairs of
    network and measured seconds): seconds per byte written, per layer and per forward, all
    ≥ 0, added to the kernels' own models (relative fit, refitted without its outliers:
    :func:`.fit.fit_offset_robust`). Returns it and the fit's relative errors on ``context``.

    The terms are added; a factor on the kernels' times (``kernel_scale``) is fitted only
    where the models were fitted on kernels ``timed_inside`` networks (:mod:`.incontext`),
    and only below 1: such a kernel was timed with the thread's clock read around it, which
    costs the layers of a network 3–5% on this machine (the sum of a synthetic network's
    layers so timed exceeds its forward pass untouched; seven measurement sets of
    benchmarks/latency_repeat.py, fitted factors 0.95–0.975, put 75–93% of the test networks
    within ±10% against 25–93% without). A factor above 1 has no such reading: fitted on
    kernels timed alone it made every large dense network 10–35% slow (issue 19's note)."""
    bare = replace(profile, network_seconds=0.0, step_seconds=0.0,
                   written_seconds_per_byte=0.0, kernel_scale=1.0)
    rows, kernels, measured = [], [], []
    for network, seconds in context:
        est = predict(network, bare)
        kernels.append(est.total_seconds)
        rows.append([sum(k.kernel.feature(WRITTEN) for k in est.kernels if k.known),
                     float(sum(len(k.kernel.layers) for k in est.kernels if k.known)), 1.0])
        measured.append(seconds)
    if timed_inside:
        scaled = fit_robust(("kernels", *CONTEXT), [[k, *r] for k, r in zip(kernels, rows)],
                            measured)
        factor, written, layers, one = (c for _, c in scaled.coefficients)
        if 0 < factor <= 1:
            return replace(bare, network_seconds=one, step_seconds=layers,
                           written_seconds_per_byte=written, kernel_scale=factor), scaled.errors
    result = fit_offset_robust(CONTEXT, rows, kernels, measured)
    written, layers, one = (c for _, c in result.coefficients)
    return replace(bare, network_seconds=one, step_seconds=layers,
                   written_seconds_per_byte=written), result.errors


def profile_from(samples: Sequence[Sample], rules: Sequence[tuple[str, bool, float]],
                 context, name: str, machine: str, runtime: str, threads: int, method: str,
                 notes: dict | None = None) -> KernelProfile:
    fusion: dict[str, bool] = {}
    for key, fused, _ in rules:
        fusion[key] = fusion.get(key, False) or fused
    in_networks = in_network_types(samples)
    notes = (notes or {}) | ({"fitted_in_networks": in_networks} if in_networks else {})
    created = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    fixed = _cache_free_models(samples)

    def fitted(cache_bytes: float) -> KernelProfile:
        return KernelProfile(name, machine, runtime, threads, method,
                             fit_models(samples, cache_bytes, fixed),
                             tuple(sorted(fusion.items())),
                             0.0, 0.0, "fp32", created, tuple(notes.items()),
                             cache_bytes=cache_bytes)
    if not context:
        return fitted(0.0)
    # the cache: whichever candidate predicts the synthetic networks best
    trials = []
    for cache_bytes in CACHE_CANDIDATES:
        profile, errors = fit_context(fitted(cache_bytes), context, bool(in_networks))
        trials.append((statistics.fmean(abs(e) for e in errors), cache_bytes, profile, errors))
    _, _, profile, errors = min(trials, key=lambda t: t[:2])
    absolute = sorted(abs(e) for e in errors)
    extra = dict(profile.extra) | {"context_networks": len(errors),
                                   "context_median_abs_error": absolute[len(absolute) // 2],
                                   "context_max_abs_error": absolute[-1]}
    return replace(profile, extra=tuple(extra.items()))
