"""The published-figures data file: it parses, cites every number, and names only real models.

These tests guard the transcription, not the cost model: a reproduction is only as good as the
figures it is compared against.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import math
import re
import tomllib

import pytest

from costmodel.data import published
from costmodel.data.published import PublishedFigure, cite, figures, load_published, sources

# The zoo names and knobs of the CLI contract.  Every model takes resolution and classes.
_COMMON_KNOBS = {"resolution", "classes"}
ZOO_KNOBS = {
    "alexnet": set(),
    "vgg16": set(),
    "googlenet": set(),
    **{f"resnet{depth}": {"variant"} for depth in (18, 34, 50, 101, 152)},
    "resnext50_32x4d": set(),
    "xception": set(),
    "mobilenet_v1": {"alpha"},
    "mobilenet_v2": {"alpha", "t"},
    "shufflenet_v1": {"g", "alpha"},
    "shufflenet_v2": {"alpha"},
    "squeezenet": set(),
    "mobilenet_v3_large": set(),
    "mobilenet_v3_small": set(),
    "efficientnet": {"variant"},
    "ghostnet": {"alpha"},
    "mobilenet_v4": {"variant"},
    "inception_v3": set(),
    "convnext": {"variant"},
    "mobilevit": {"variant"},
    "vit": {"variant"},
}
# Knobs with a closed set of values.
ALLOWED_VALUES = {
    ("shufflenet_v1", "g"): {1, 2, 3, 4, 8},
    ("shufflenet_v2", "alpha"): {0.5, 1.0, 1.5, 2.0},
    **{(f"resnet{d}", "variant"): {"v1", "v1.5"} for d in (18, 34, 50, 101, 152)},
    ("efficientnet", "variant"): {f"b{i}" for i in range(8)},
    ("mobilenet_v4", "variant"): {"conv_s", "conv_m", "conv_l", "hybrid_m", "hybrid_l"},
    ("convnext", "variant"): {"t", "s", "b", "l"},
    ("mobilevit", "variant"): {"xxs", "xs", "s"},
    ("vit", "variant"): {"b16", "b32", "l16"},
}


def _raw_toml() -> dict:
    text = importlib.resources.files("costmodel.data").joinpath("published.toml").read_text("utf-8")
    return tomllib.loads(text)


def _one(source: str, table: str, label: str) -> PublishedFigure:
    """The single figure with this label; duplicates would make lookups by label ambiguous."""
    rows = [f for f in figures(source=source, table=table) if f.label == label]
    assert len(rows) == 1, f"{source} {table} {label!r}: {len(rows)} rows"
    return rows[0]


def test_file_parses_with_stdlib_tomllib():
    data = _raw_toml()
    assert data["sources"] and data["figures"]
    assert len(load_published()) == len(data["figures"])


def test_every_source_has_a_citation_and_every_figure_a_known_source():
    cited = sources()
    assert all(isinstance(c, str) and c.strip() for c in cited.values())
    assert {f.source for f in load_published()} <= set(cited)


def test_every_paper_source_is_cited_with_its_arxiv_id():
    not_on_arxiv = {"alexnet", "tf_slim"}  # a NIPS 2012 paper; a GitHub README
    for key, citation in sources().items():
        assert key in not_on_arxiv or re.search(r"arXiv \d{4}\.\d{4,5}\b", citation), key


@pytest.mark.parametrize("source, table, label, attr, expected", [
    ("mobilenet_v1", "Table 6", "0.75 MobileNet-224", "macs", 325e6),
    ("mobilenet_v1", "Table 6", "0.75 MobileNet-224", "params", 2.6e6),
    ("mobilenet_v1", "Table 6", "0.75 MobileNet-224", "top1", 68.4),
    ("mobilenet_v1", "Table 3", "Convolution", "macs", 462e6),
    ("mobilenet_v1", "Table 8", "VGG 16", "macs", 15300e6),
    ("shufflenet_v2", "Table 5", "ShuffleNet v2 1.5×", "macs", 299e6),
    ("shufflenet_v2", "Table 5", "ShuffleNet v2 2×", "params", 7.4e6),
    ("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 1)", "macs", 143e6),
    ("shufflenet_v1", "Table 2", "ShuffleNet 0.5× (g = 4)", "top1_err", 41.6),
    ("mobilenet_v2", "Table 4", "MobileNetV2", "macs", 300e6),
    ("mobilenet_v2", "Table 4", "MobileNetV1", "macs", 575e6),
    ("resnet", "Table 1", "152-layer", "macs", 11.3e9),
    ("resnext", "Table 1", "ResNeXt-50 (32×4d)", "macs", 4.2e9),
    ("xception", "Table 3", "Xception", "params", 22_855_952),
    ("googlenet", "Table 1", "inception (4e)", "macs", 170e6),
    ("efficientnet", "Table 2", "EfficientNet-B2", "params", 9.2e6),
    ("ghostnet", "Table 7", "GhostNet 1.3×", "macs", 226e6),
    ("mobilenet_v4", "Table 6", "MNv4-Conv-M", "params", 9.2e6),
    ("inception_v3", "Abstract", "Inception-v3", "macs", 5e9),
])
def test_known_values_are_present_as_printed(source, table, label, attr, expected):
    assert getattr(_one(source, table, label), attr) == expected


def test_structured_fields_of_known_rows():
    assert _one("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 3)").channels["stage3"] == 480
    assert _one("shufflenet_v2", "Table 5", "ShuffleNet v2 2×").channels["conv5"] == 2048
    layer = _one("mobilenet_v1", "Table 3", "ρ = 0.714")
    assert layer.derivation == "separable" and layer.at["C"] == 512 and layer.config["rho"] == 0.714
    assert _one("mobilenet_v1", "Table 2", "Fully Connected").params_share == 24.33
    assert _one("mobilenet_v2", "Table 3", "max / MobileNetV2").memory_kb == 400
    assert _one("googlenet", "Table 1", "linear").layer == "linear"


def test_every_model_is_a_zoo_name():
    named = {f.model for f in load_published() if f.model is not None}
    assert named <= set(ZOO_KNOBS), sorted(named - set(ZOO_KNOBS))


def test_config_knobs_belong_to_the_model():
    for f in load_published():
        if f.model is None:
            continue
        unknown = set(f.config) - ZOO_KNOBS[f.model] - _COMMON_KNOBS
        assert not unknown, f"{f.source} {f.table} {f.label!r}: {sorted(unknown)}"
        for knob, value in f.config.items():
            allowed = ALLOWED_VALUES.get((f.model, knob))
            assert allowed is None or value in allowed, f"{f.label!r}: {knob}={value!r}"


def test_error_tables_convert_to_top1():
    converted = [f for f in load_published() if f.top1_err is not None]
    assert converted
    for f in converted:
        assert f.top1 is not None and math.isclose(f.top1 + f.top1_err, 100.0), f.label


def test_values_are_in_range():
    for f in load_published():
        for name in ("macs", "macs_min", "params", "memory_kb"):
            value = getattr(f, name)
            assert value is None or value > 0, (f.label, name)
        for name in ("top1", "macs_share", "params_share"):
            value = getattr(f, name)
            assert value is None or 0 <= value <= 100, (f.label, name)


def test_each_row_kind_carries_its_fields():
    for f in load_published():
        if f.derivation is not None:
            assert f.at, f.label
        if f.macs_share is not None or f.params_share is not None:
            assert f.layer_type in {"conv1x1", "dw3x3", "conv3x3", "fc"}, f.label
        if f.sic:
            assert f.note, f"{f.label!r} is marked sic without saying why"


def test_every_row_says_something():
    """A row with no figure at all would be a transcription slip."""
    payload = ("macs", "macs_min", "params", "top1", "macs_share", "params_share", "memory_kb",
               "max_channels", "channels", "measured", "extra")
    for f in load_published():
        assert any(getattr(f, name) not in (None, {}) for name in payload), f.label


def test_filters_and_citation():
    table6 = figures(source="mobilenet_v1", table="Table 6")
    assert [f.label for f in table6][0] == "1.0 MobileNet-224"
    assert all(f.model == "shufflenet_v2" for f in figures(model="shufflenet_v2"))
    assert cite(table6[0]).endswith("arXiv 1704.04861, Table 6")


def test_loaded_figures_are_read_only_and_cached():
    first = load_published()
    first.clear()
    assert load_published(), "a caller emptying its list must not empty the cache"
    row = load_published()[0]
    with pytest.raises(AttributeError):
        row.macs = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        _one("mobilenet_v1", "Table 3", "Convolution").at["H"] = 7  # type: ignore[index]
    assert isinstance(hash(row), int)


def test_a_misspelt_key_is_rejected():
    with pytest.raises(ValueError, match="unknown key"):
        published._figure(0, {"source": "resnet", "table": "T", "label": "x", "mac": 1.0},
                          {"resnet": "He et al."})
    with pytest.raises(ValueError, match="source"):
        published._figure(0, {"source": "nope", "table": "T", "label": "x"}, {"resnet": "He"})


def test_tf_slim_checkpoint_csv_is_shipped_with_its_header():
    text = importlib.resources.files("costmodel.data").joinpath(
        "tf_slim_checkpoints.csv").read_text("utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments and "TensorFlow-slim" in comments[0]
    rows = list(csv.DictReader(io.StringIO("\n".join(
        line for line in text.splitlines() if not line.startswith("#")))))
    assert {"model", "alpha", "resolution", "top1"} <= set(rows[0])
    assert {r["model"] for r in rows} <= set(ZOO_KNOBS)
