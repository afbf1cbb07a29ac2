"""The papers' cost tables regenerated: each printed figure beside the exact count, Δ% and why
they differ.

One function per paper table returns a :class:`~costmodel.report.table.Table` with the row
label as printed, the model spec the computed side was built from, the published and computed
MACs and parameters with Δ% = (computed − published) / published · 100, and a reason.

The published figures come from ``costmodel/data/published.toml`` (with their citations); the
computed side from the zoo (``model`` and ``config`` of each figure), from
:func:`costmodel.core.ops.apply` for the single layers of MobileNet v1 Table 3, and from two
variants of the zoo's MobileNet v1 for the "Conv MobileNet" and "Shallow MobileNet" rows
(:data:`VARIANTS`, layer-spec files in ``costmodel/report/variants/``).

A computed count *agrees* with a printed figure when rounding or truncating it to the printed
digit gives that figure (papers do both: MobileNet v1 prints 568.7M as 569 but 290.7M as 290):
``printed − step/2 <= exact < printed + step``. Every row that does not agree carries a reason
from :data:`REASONS`, each taken from the zoo files' notes and checked numerically in
``tests/test_report.py``; rows that agree carry none.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any

from sympy import Integer

from ..core.network import Network, exact
from ..core.ops import Counts, Shape, apply
from ..data.published import PublishedFigure, cite, figures
from ..spec.ref import spec_string
from . import modern_tables
from .table import Column, Table, convention_note

__all__ = ["TABLES", "REASONS", "NOT_IN_ZOO", "VARIANTS", "agrees", "printed_step",
           "delta_percent", "network", "variant_network"]

CONVENTION = "paper"
MILLION = 10**6
NOT_IN_ZOO = "not in the zoo"
NO_REASON = "(no reason recorded: see costmodel/report/paper_tables.py REASONS)"

UNIT_NOTE = ("Units: 568.7M = 568.7 million, 1.55G = 1.55 billion (the papers print millions); "
             "computed counts are exact, and the CSV has exact integers for both sides. MACs are "
             "multiply-accumulates, 1 MAC = 2 FLOPs; the papers' FLOPs/Mult-Adds are MACs.")
RULE_NOTE = ("Δ% = (computed - published) / published x 100. A row has a reason when an exact "
             "count does not agree with the printed figure, i.e. neither rounding nor truncating "
             "it to the printed digit gives that figure.")


def _convention_note() -> str:
    return convention_note(CONVENTION)


# --- exact comparison with printed figures ---------------------------------------------------

def _fraction(value: float | int | Fraction) -> Fraction:
    """A printed figure as the exact decimal it was written as (94.86 -> 9486/100)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def printed_step(printed: float | int | Fraction, unit: int = MILLION) -> Fraction:
    """The value of the last printed digit of a figure stored in units and printed in ``unit``s:
    569e6 (printed "569") -> 1M, 52.3e6 -> 0.1M, 0.27e6 -> 0.01M. ``unit=1`` for shares."""
    value = _fraction(printed) / unit
    decimals = 0
    while (value * 10**decimals).denominator != 1:
        decimals += 1
    return Fraction(unit, 10**decimals)


def agrees(exact_value: Any, printed: float | int | Fraction, step: Fraction | None = None,
           unit: int = MILLION) -> bool:
    """``exact_value`` rounds or truncates to ``printed`` at ``step`` (both in units):
    ``printed - step/2 <= exact < printed + step``."""
    value, figure = _fraction(exact_value), _fraction(printed)
    step = printed_step(printed, unit) if step is None else Fraction(step)
    return figure - step / 2 <= value < figure + step


def delta_percent(computed: Any, published: float | int | Fraction) -> float:
    """(computed − published) / published · 100, rounded half away from zero to 1 decimal."""
    ratio = (_fraction(computed) - _fraction(published)) / _fraction(published) * 1000
    tenths = math.floor(abs(ratio) + Fraction(1, 2))
    return math.copysign(tenths, ratio) / 10 if tenths else 0.0


def _published(value: float | None) -> int | Fraction | None:
    """A published figure for the table: an int when whole (569e6), else the printed decimal."""
    if value is None:
        return None
    figure = _fraction(value)
    return int(figure) if figure.denominator == 1 else figure


def _share(part: Any, whole: Any) -> Fraction:
    return _fraction(part) / _fraction(whole) * 100


# --- the computed side -----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def network(spec: str) -> Network:
    """The zoo network of a spec string, built once per process."""
    from .. import zoo
    return zoo.build(spec)


@dataclass(frozen=True)
class Computed:
    """The computed side of a row: how it was obtained and its exact counts."""

    spec: str
    macs: int | None
    params: int | None


def _counts_of(net: Network, spec: str) -> Computed:
    return Computed(spec, exact(net.macs(CONVENTION)), exact(net.params(CONVENTION)))


def _zoo(fig: PublishedFigure) -> Computed:
    spec = spec_string(fig.model, fig.config)
    return _counts_of(network(spec), spec)


#: Architectures for rows with no zoo knob: MobileNet v1 Table 4's "Conv MobileNet" (every
#: depthwise separable layer a full 3x3 convolution) and Table 5's "Shallow MobileNet" (without
#: the five 14x14x512 separable layers), as layer-spec files in costmodel/report/variants/.
#: `generate` copies them to reports/specs/ (`costmodel compare reports/specs/
#: conv_mobilenet_v1.cm` works); tests/test_report.py checks they follow the zoo's file.
VARIANTS = ("conv_mobilenet_v1", "shallow_mobilenet_v1")


def variant_text(name: str) -> str:
    """The layer-spec file of the variant ``name``."""
    return resources.files("costmodel.report.variants").joinpath(f"{name}.cm").read_text(
        encoding="utf-8")


@functools.lru_cache(maxsize=None)
def variant_network(name: str) -> Network:
    """A :data:`VARIANTS` network, built at its defaults."""
    from ..spec import build, parse_text
    return build(parse_text(variant_text(name), f"specs/{name}.cm"))


def _variant(name: str) -> Computed:
    return _counts_of(variant_network(name), f"specs/{name}.cm")


# --- reasons ---------------------------------------------------------------------------------

_V1_T1_FC = ("Table 1 counts the convolutions only, without the FC layer (zoo note): without "
             "the FC's {fc} MACs the count is {conv}, as printed.")
_V1_T2_1X = ("Nominal: Table 2 prints one complexity, 140M, for every g at 1x; the exact 1x "
             "networks span 134.3-143.1M (Table 1: 143/140/137/133/137M without the FC).")
_V1_T2_05X = ("Nominal: 38M is printed for every g at 0.5x; the exact 0.5x networks span "
              "37.6-40.5M, g = 8 being the widest (stem 16, stages 192/384/768).")
_V1_T2_025X = ("Nominal: 13M is printed for every g at 0.25x; the exact 0.25x networks span "
               "11.0-12.4M, all below it.")
_V1_1X_G8 = ("Nominal 140M, as in Tables 2 and 4; the exact 1x (g = 8) network is 138.4M, "
             "136.8M without the FC (Table 1 prints 137M).")
_VGG_CONVS = ("15.3G counts the 13 convolutions only (15,346.6M, 15.3G to three significant "
              "digits); the three FC layers add 123.6M (zoo note).")
_ALEXNET_224 = ("720M is the count at the paper's 224x224 input (720.6M: conv1 54x54, ceil "
                "pooling restores 27x27); the zoo's default is Caffe's 227 (zoo note).")

#: Why a row's exact count differs from the printed figure, keyed by (source, table, label).
#: Each is checked numerically in tests/test_report.py; a row that agrees shows none.
REASONS: dict[tuple[str, str, str], str] = {
    # MobileNet v1 (arXiv 1704.04861)
    ("mobilenet_v1", "Table 2", "Conv 1×1"):
        "The params share leaves out the FC's 1,000 biases: 3,139,584 / 4,209,088 = 74.59% "
        "(zoo note).",
    ("mobilenet_v1", "Table 2", "Conv 3×3"):
        "Digits swapped (sic): the stem conv is 1.91% (10,838,016 / 568,740,352); the column "
        "sums to 99.29% as printed, to 100.01% with 1.91 (zoo note).",
    ("mobilenet_v1", "Table 2", "Fully Connected"):
        "The params share leaves out the FC's 1,000 biases: 1,024,000 / 4,209,088 = 24.33% "
        "(zoo note).",
    ("mobilenet_v1", "Table 4", "Conv MobileNet"):
        "Not reproduced exactly (0.03% above): without the FC's 1.02M MACs it would be 4866.3M, "
        "but the table's MobileNet row (569M) includes the FC.",
    ("mobilenet_v1", "Table 8", "GoogleNet"):
        "Not reproduced: the exact count is 1582.7M and GoogLeNet's Table 1 ops sum to 1502M; "
        "6.8M params are its Table 1 weights (no biases) in K = 1024: 6,990,272 / 1024 = 6.83M "
        "(zoo note).",
    ("mobilenet_v1", "Table 8", "VGG 16"): _VGG_CONVS,
    ("mobilenet_v1", "Table 9", "Squeezenet"):
        "1700 counts FLOPs, 2 per multiply-add: 2 x 832.7M = 1665M, 1.7G to two significant "
        "digits; no reading of the network has 1.7G MACs (zoo note).",
    ("mobilenet_v1", "Table 9", "AlexNet"): _ALEXNET_224,
    # ShuffleNet v1 (arXiv 1707.01083)
    ("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 4)"):
        _V1_T1_FC.format(fc="1.09M", conv="133.3M"),
    ("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 8)"):
        _V1_T1_FC.format(fc="1.54M", conv="136.8M"),
    **{("shufflenet_v1", "Table 2", f"ShuffleNet 1× (g = {g})"): _V1_T2_1X for g in (1, 3, 4, 8)},
    ("shufflenet_v1", "Table 2", "ShuffleNet 0.5× (g = 8)"): _V1_T2_05X,
    **{("shufflenet_v1", "Table 2", f"ShuffleNet 0.25× (g = {g})"): _V1_T2_025X
       for g in (1, 2, 3, 4, 8)},
    ("shufflenet_v1", "Table 5", "ShuffleNet 1× (g = 8)"): _V1_1X_G8,
    ("shufflenet_v1", "Table 6", "VGG-16"): _VGG_CONVS,
    ("shufflenet_v1", "Table 6", "GoogleNet* (BVLC implementation)"):
        "GoogLeNet's '1.5 billion' budget: the exact 1582.7M truncated to two significant "
        "digits (zoo note).",
    ("shufflenet_v1", "Table 6", "ShuffleNet 1× (g = 8)"): _V1_1X_G8,
    ("shufflenet_v1", "Table 6", "AlexNet"): _ALEXNET_224,
    # MobileNet v2 (arXiv 1801.04381)
    ("mobilenet_v2", "Table 4", "MobileNetV1"):
        "Not reproduced: the MobileNet v1 paper prints 569M (its Table 6) and the exact count "
        "is 568.7M (zoo note).",
    ("mobilenet_v2", "Table 4", "MobileNetV2 (1.4)"):
        "Not reproduced: the 1.4 network has 582.2M MACs and 6.06M params, as the TF-slim "
        "checkpoint table prints (582, 6.06); rounding=none gives 571.1M and 6.05M (zoo note).",
    # ShuffleNet v2 (arXiv 1807.11164)
    ("shufflenet_v2", "Table 5", "ShuffleNet v2 0.5×"):
        "Table 5's FLOPs are the official counts rounded up to the next million: 40.5/145.8/"
        "299.0/590.8M print as 41/146/299/591 (zoo note).",
    # EfficientNet, GhostNet, MobileNetV4, Inception v3 (costmodel/report/modern_tables.py)
    **modern_tables.REASONS,
}


# --- rows and tables -------------------------------------------------------------------------

def _reason(fig: PublishedFigure, differs: bool) -> str:
    if not differs:
        return ""
    return REASONS.get((fig.source, fig.table, fig.label), NO_REASON)


def _compare_row(fig: PublishedFigure, computed: Computed | None) -> dict[str, Any]:
    """One printed row beside its computed counts."""
    row: dict[str, Any] = {"label": fig.label, "top1": fig.top1, "top1_err": fig.top1_err}
    if computed is None:
        row.update(spec="—", reason=NOT_IN_ZOO)
        for what in ("macs", "params"):
            printed = getattr(fig, what)
            row.update({f"published_{what}": _published(printed),
                        f"computed_{what}": "—" if printed is not None else None,
                        f"delta_{what}": "—" if printed is not None else None})
        return row
    differs = False
    for what in ("macs", "params"):
        printed, value = getattr(fig, what), getattr(computed, what)
        row[f"published_{what}"] = _published(printed)
        row[f"computed_{what}"] = value
        row[f"delta_{what}"] = None if printed is None else delta_percent(value, printed)
        step = fig.step.get(what)  # a figure printed in billions: its last digit, in units
        differs |= printed is not None and not agrees(
            value, printed, None if step is None else _fraction(step))
    row.update(spec=computed.spec, reason=_reason(fig, differs))
    return row


def _columns(rows: Sequence[Mapping[str, Any]]) -> tuple[Column, ...]:
    """Label, spec, MACs and params (published, computed, Δ%), the printed accuracy when the
    table has one, and the reason; a figure the table never prints gets no columns."""
    def has(key: str) -> bool:
        return any(row.get(key) is not None for row in rows)

    columns = [Column("label", "row (as printed)"), Column("spec", "model spec")]
    for what, name in (("macs", "MACs"), ("params", "params")):
        if has(f"published_{what}"):
            columns += [Column(f"published_{what}", f"{name} published", "figure"),
                        Column(f"computed_{what}", f"{name} computed", "count"),
                        Column(f"delta_{what}", f"Δ% {name}", "delta")]
    if has("top1_err"):
        columns.append(Column("top1_err", "top-1 err. % (published)"))
    elif has("top1"):
        columns.append(Column("top1", "top-1 % (published)"))
    return (*columns, Column("reason", "reason"))


def _figs(source: str, table: str) -> list[PublishedFigure]:
    found = figures(source=source, table=table)
    if not found:
        raise RuntimeError(f"published.toml has no figures for {source} {table}")
    return found


def _table(source: str, table: str, caption: str, rows: Sequence[Mapping[str, Any]],
           notes: Iterable[str] = (), columns: Sequence[Column] | None = None) -> Table:
    citation = cite(_figs(source, table)[0])
    return Table(f"{_PAPERS[source]}, {table}: {caption}",
                 tuple(columns or _columns(rows)), tuple(rows),
                 (f"Published: {citation}.", *notes, UNIT_NOTE, _convention_note(), RULE_NOTE))


_PAPERS = {"mobilenet_v1": "MobileNet v1", "shufflenet_v1": "ShuffleNet v1",
           "mobilenet_v2": "MobileNet v2", "shufflenet_v2": "ShuffleNet v2",
           **{spec.source: spec.paper for spec in modern_tables.MODEL_TABLES}}


def _model_table(source: str, table: str, caption: str, notes: Iterable[str] = (),
                 special: Mapping[str, Callable[[], Computed]] | None = None) -> Table:
    """A table of whole networks: zoo rows from each figure's model and config, ``special``
    rows (by label) from a variant, and the rest "not in the zoo"."""
    special = special or {}
    rows = []
    for fig in _figs(source, table):
        if fig.label in special:
            computed = special[fig.label]()
        else:
            computed = _zoo(fig) if fig.model else None
        rows.append(_compare_row(fig, computed))
    return _table(source, table, caption, rows, notes)


# --- MobileNet v1 (arXiv 1704.04861) -----------------------------------------------------------

#: Table 2's layer types -> the zoo's layer kinds (Layer.kind).
_KINDS = {"conv1x1": "conv 1x1", "dw3x3": "conv dw 3x3", "conv3x3": "conv 3x3", "fc": "fc"}


def mobilenet_v1_table2() -> Table:
    """Table 2, resource per layer type of 1.0 MobileNet-224: shares of Mult-Adds and params."""
    net = network("mobilenet_v1")
    by_type = net.type_totals(CONVENTION)
    total_macs, total_params = net.macs(CONVENTION), net.params(CONVENTION)
    rows = []
    for fig in _figs("mobilenet_v1", "Table 2"):
        kind = _KINDS[fig.layer_type]
        macs, params = by_type[kind]
        row: dict[str, Any] = {"label": fig.label, "spec": f"mobilenet_v1: {kind} layers",
                               "macs": exact(macs), "params": exact(params)}
        differs = False
        for what, part, whole in (("macs", macs, total_macs), ("params", params, total_params)):
            printed, share = getattr(fig, f"{what}_share"), _share(part, whole)
            row.update({f"published_{what}": _published(printed), f"computed_{what}": share,
                        f"delta_{what}": delta_percent(share, printed)})
            differs |= not agrees(share, printed, unit=1)
        row["reason"] = _reason(fig, differs)
        rows.append(row)
    columns = (Column("label", "type (as printed)"), Column("spec", "zoo layers"),
               Column("macs", "MACs computed", "count"),
               Column("published_macs", "Mult-Adds % published", "percent"),
               Column("computed_macs", "Mult-Adds % computed", "percent"),
               Column("delta_macs", "Δ% Mult-Adds", "delta"),
               Column("params", "params computed", "count"),
               Column("published_params", "params % published", "percent"),
               Column("computed_params", "params % computed", "percent"),
               Column("delta_params", "Δ% params", "delta"), Column("reason", "reason"))
    return _table("mobilenet_v1", "Table 2", "Resource per layer type (1.0 MobileNet-224)", rows,
                  (f"Shares of the exact totals, {exact(total_macs):,} MACs and "
                   f"{exact(total_params):,} params; the CSV has the shares as decimals and the "
                   "per-type MACs and params as exact integers. Shares are printed to 0.01%.",),
                  columns)


def _table3_layer(channels: int, side: int, separable: bool) -> Counts:
    """One 3x3 layer on side x side x channels, channels out: full, or depthwise + pointwise."""
    x = Shape.image(Integer(channels), Integer(side), Integer(side))
    if not separable:
        return apply("conv", [x], {"c": channels, "k": 3}).counts
    dw = apply("dw", [x], {"k": 3})
    return dw.counts + apply("pw", [dw.shape], {"c": channels}).counts


#: MobileNet v1 Table 3's layer (D_K = 3, M = N = 512, D_F = 14).
TABLE3_CHANNELS, TABLE3_SIDE = 512, 14


def table3_geometry(fig: PublishedFigure) -> tuple[int, int]:
    """(channels, map side) of a Table 3 row: α scales the channels, ρ the 14x14 map, both to
    the nearest integer (ρ = 0.714 ≈ 160/224: 14 x 0.714 = 9.996 -> 10, the map a 160-pixel
    input gives at that stage)."""
    alpha = _fraction(fig.config.get("alpha", 1))
    rho = _fraction(fig.config.get("rho", 1))
    return round(TABLE3_CHANNELS * alpha), round(TABLE3_SIDE * rho)


def mobilenet_v1_table3() -> Table:
    """Table 3, resource usage of one 14x14x512 layer and its modifications."""
    rows = []
    for fig in _figs("mobilenet_v1", "Table 3"):
        channels, side = table3_geometry(fig)
        separable = fig.derivation == "separable"
        counts = _table3_layer(channels, side, separable)
        what = "3x3 dw + 1x1 pw" if separable else "conv 3x3"
        spec = f"ops: {what}, {channels}->{channels} ch., {side}x{side} map"
        rows.append(_compare_row(fig, Computed(spec, exact(counts.macs),
                                               exact(counts.weights))))
    return _table("mobilenet_v1", "Table 3",
                  "Resource usage for modifications to standard convolution", rows,
                  ("One layer with D_K = 3, M = N = 512 on a 14x14 map, computed with the op "
                   "registry (costmodel.core.ops.apply); each row adds to the one above. "
                   "α = 0.75 gives 384 channels. ρ = 0.714 is about 160/224: 14 x 0.714 = "
                   "9.996, so the map is 10x10 (the map a 160-pixel input gives at this stage) "
                   "and the layer costs 10 x 10 x 384 x (9 + 384) = 15,091,200 Mult-Adds, the "
                   "printed 15.1M; ρ does not change the params.",))


def mobilenet_v1_table4() -> Table:
    """Table 4, depthwise separable vs full convolution MobileNet."""
    return _model_table("mobilenet_v1", "Table 4",
                        "Depthwise separable vs full convolution MobileNet",
                        ("Conv MobileNet: specs/conv_mobilenet_v1.cm, the zoo's mobilenet_v1 "
                         "with each separable layer a full 3x3 convolution of the same width "
                         "and stride.",),
                        {"Conv MobileNet": lambda: _variant("conv_mobilenet_v1")})


def mobilenet_v1_table5() -> Table:
    """Table 5, narrow vs shallow MobileNet."""
    return _model_table("mobilenet_v1", "Table 5", "Narrow vs shallow MobileNet",
                        ("Shallow MobileNet: specs/shallow_mobilenet_v1.cm, the zoo's "
                         "mobilenet_v1 without the five separable layers at 14x14x512.",),
                        {"Shallow MobileNet": lambda: _variant("shallow_mobilenet_v1")})


def mobilenet_v1_table6() -> Table:
    """Table 6, MobileNet width multiplier."""
    return _model_table("mobilenet_v1", "Table 6", "MobileNet width multiplier",
                        ("Widths as TF-slim: max(int(c x α), 8) (knob rounding=reference).",))


def mobilenet_v1_table7() -> Table:
    """Table 7, MobileNet resolution."""
    return _model_table("mobilenet_v1", "Table 7", "MobileNet resolution",
                        ("The paper rounds some figures and truncates others: 568.7M prints "
                         "as 569, 290.7M as 290.",))


def mobilenet_v1_table8() -> Table:
    """Table 8, MobileNet comparison to popular models."""
    return _model_table("mobilenet_v1", "Table 8", "MobileNet comparison to popular models")


def mobilenet_v1_table9() -> Table:
    """Table 9, smaller MobileNet comparison to popular models."""
    return _model_table("mobilenet_v1", "Table 9",
                        "Smaller MobileNet comparison to popular models")


# --- ShuffleNet v1 (arXiv 1707.01083) --------------------------------------------------------

_SHUFFLENET_V1_WIDTHS = ("ShuffleNet widths as the official megvii code: each stage alpha x c "
                         "rounded to a multiple of 4g (knob rounding=reference); the classifier "
                         "has no bias.")


def shufflenet_v1_table1() -> Table:
    """Table 1, ShuffleNet 1x architecture: complexity for each number of groups g."""
    return _model_table("shufflenet_v1", "Table 1",
                        "ShuffleNet architecture, complexity for g = 1 to 8 (1x, 224x224)",
                        ("Table 1 counts the convolutions without the FC layer; the computed "
                         "column is the whole network, FC included, as every other table.",
                         _SHUFFLENET_V1_WIDTHS))


def shufflenet_v1_table2() -> Table:
    """Table 2, classification error vs number of groups g."""
    return _model_table("shufflenet_v1", "Table 2",
                        "Classification error vs number of groups g",
                        ("The paper prints one complexity per row (140M, 38M, 13M) for every "
                         "g; the exact counts depend on g.", _SHUFFLENET_V1_WIDTHS))


def shufflenet_v1_table5() -> Table:
    """Table 5, ShuffleNet vs MobileNet."""
    return _model_table("shufflenet_v1", "Table 5", "ShuffleNet vs MobileNet on ImageNet",
                        (_SHUFFLENET_V1_WIDTHS,))


def shufflenet_v1_table6() -> Table:
    """Table 6, complexity comparison."""
    return _model_table("shufflenet_v1", "Table 6", "Complexity comparison",
                        (_SHUFFLENET_V1_WIDTHS,))


# --- MobileNet v2 and ShuffleNet v2 ------------------------------------------------------------

def mobilenet_v2_table4() -> Table:
    """MobileNet v2 Table 4, performance on ImageNet for different networks."""
    return _model_table("mobilenet_v2", "Table 4",
                        "Performance on ImageNet for different networks",
                        ("ShuffleNet (1.5) and (x2) are ShuffleNet v1 with g = 3 (inferred in "
                         "published.toml from their MACs and accuracy).",))


def shufflenet_v2_table5() -> Table:
    """ShuffleNet v2 Table 5, overall architecture: FLOPs and weights per width."""
    return _model_table("shufflenet_v2", "Table 5",
                        "Overall architecture of ShuffleNet v2, FLOPs and # of weights",
                        ("The zoo's default impl=official is the authors' megvii code; "
                         "impl=torchvision differs in the first unit of Stage 2.",))


#: Every table: file name (without extension) -> the function that builds it, in report order.
TABLES: dict[str, Callable[[], Table]] = {
    "mobilenet_v1_table2": mobilenet_v1_table2,
    "mobilenet_v1_table3": mobilenet_v1_table3,
    "mobilenet_v1_table4": mobilenet_v1_table4,
    "mobilenet_v1_table5": mobilenet_v1_table5,
    "mobilenet_v1_table6": mobilenet_v1_table6,
    "mobilenet_v1_table7": mobilenet_v1_table7,
    "mobilenet_v1_table8": mobilenet_v1_table8,
    "mobilenet_v1_table9": mobilenet_v1_table9,
    "shufflenet_v1_table1": shufflenet_v1_table1,
    "shufflenet_v1_table2": shufflenet_v1_table2,
    "shufflenet_v1_table5": shufflenet_v1_table5,
    "shufflenet_v1_table6": shufflenet_v1_table6,
    "mobilenet_v2_table4": mobilenet_v2_table4,
    "shufflenet_v2_table5": shufflenet_v2_table5,
}


def _listed(spec: modern_tables.ModelTable) -> Callable[[], Table]:
    def build() -> Table:
        return _model_table(spec.source, spec.table, spec.caption, spec.notes)
    build.__doc__ = f"{spec.paper} {spec.table}, {spec.caption}."
    return build


# EfficientNet Table 2, GhostNet Table 7, MobileNetV4 Table 6, Inception v3's abstract
TABLES.update({spec.name: _listed(spec) for spec in modern_tables.MODEL_TABLES})
