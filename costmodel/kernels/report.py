"""A kernel estimate as a table and as the JSON record of `costmodel latency --hw X.json`."""

from __future__ import annotations

from ..report.table import Column, Table
from ..safe_io import printable
from .profile import KernelEstimate


def kernel_table(est: KernelEstimate) -> Table:
    rows = []
    for k in est.kernels:
        terms = dict(k.terms)
        rows.append({"name": k.kernel.name, "kernel": k.kernel.label,
                     "layers": len(k.kernel.layers),
                     "macs": int(k.kernel.feature("macs")),
                     "bytes": int(k.kernel.feature("bytes")),
                     "compute": _us(terms.get("compute")), "memory": _us(terms.get("memory")),
                     "overhead": _us(terms.get("overhead")),
                     "microseconds": _us(k.seconds) if k.known else "no model",
                     "dominant": k.dominant})
    profile = est.profile
    terms = est.term_seconds()
    total = est.total_seconds
    shares = ", ".join(f"{name} {100 * value / total:.0f}%" for name, value in terms.items()) \
        if total else "no time"
    notes = [f"{est.network} on {printable(profile.name, None)}: {total * 1e3:.4g} ms predicted "
             f"(batch {est.batch}), {len(est.kernels)} kernels from {est.layers} layers; "
             f"dominant term: {est.dominant} ({shares}).",
             f"Profile: {printable(profile.runtime, None)}, {profile.threads} thread(s), "
             f"{printable(profile.machine, None)}; {printable(profile.method, None)}.",
             f"In context: {profile.network_seconds * 1e6:.3g} µs per forward, "
             f"{profile.step_seconds * 1e6:.3g} µs per layer stepped (overhead term) and "
             f"{profile.written_seconds_per_byte * 1e12:.3g} ps per byte written to a fresh "
             "buffer (memory term), on top of each kernel timed alone."]
    if est.unknown:
        notes.insert(0, f"INCOMPLETE: the profile has no model for {', '.join(est.unknown)} "
                        f"({sum(1 for k in est.kernels if not k.known)} kernels); the total "
                        "leaves them out. Calibrate with them, or expect more time.")
    return Table(f"{est.network}: kernel latency on {printable(profile.name, None)}", (
        Column("name", "kernel (first layer)"), Column("kernel", "type"),
        Column("layers", "layers", "text"), Column("macs", "MACs", "count"),
        Column("bytes", "bytes", "count"), Column("compute", "compute µs", "text"),
        Column("memory", "memory µs", "text"), Column("overhead", "overhead µs", "text"),
        Column("microseconds", "µs", "text"), Column("dominant", "dominant")),
        tuple(rows), tuple(notes))


def _us(seconds: float | None):
    return None if seconds is None else round(seconds * 1e6, 3)


def kernel_record(est: KernelEstimate) -> dict:
    profile = est.profile
    return {"model": est.network, "hw": profile.name, "profile": "kernels",
            "runtime": profile.runtime, "batch": est.batch, "total_seconds": est.total_seconds,
            "complete": not est.unknown, "unknown_kernel_types": list(est.unknown),
            "dominant": est.dominant, "terms_seconds": est.term_seconds(),
            "fixed_seconds": est.fixed_seconds,
            "kernels": [{"name": k.kernel.name, "type": k.kernel.type, "label": k.kernel.label,
                         "layers": [layer.name for layer in k.kernel.layers],
                         "features": dict(k.kernel.features),
                         "seconds": k.seconds if k.known else None,
                         "terms_seconds": dict(k.terms) if k.known else None,
                         "dominant": k.dominant} for k in est.kernels]}
