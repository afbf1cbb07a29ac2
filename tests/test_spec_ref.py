"""The SPEC-string grammar (costmodel/spec/ref.py), parsed in one place, and the one protocol
every front end implements (costmodel/frontends/registry.py)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from costmodel import zoo
from costmodel.errors import CostModelError
from costmodel.frontends import FRONT_ENDS, build_spec, resolve
from costmodel.spec.ref import KINDS, SpecRef, parse_ref, parse_settings, spec_string

SMALL = "model small\ninput 3 8 8\nconv 4 k=3\n"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, expected", [
    ("mobilenet_v1", SpecRef("zoo", "mobilenet_v1", text="mobilenet_v1")),
    ("mobilenet_v1:alpha=0.5,resolution=160",
     SpecRef("zoo", "mobilenet_v1", "", (("alpha", "0.5"), ("resolution", "160")),
             "mobilenet_v1:alpha=0.5,resolution=160")),
    ("net.cm", SpecRef("cm", "net.cm", text="net.cm")),
    ("dir/net.cm:alpha=0.5", SpecRef("cm", "dir/net.cm", "", (("alpha", "0.5"),),
                                     "dir/net.cm:alpha=0.5")),
    ("./vgg16", SpecRef("cm", "./vgg16", text="./vgg16")),
    ("net.py:build", SpecRef("python", "net.py", "build", (), "net.py:build")),
    ("net.py:build:width=2, depth = 3",
     SpecRef("python", "net.py", "build", (("width", "2"), ("depth", "3")),
             "net.py:build:width=2, depth = 3")),
    ("model.onnx", SpecRef("onnx", "model.onnx", text="model.onnx")),
    ("model.onnx:height=224,width=320",
     SpecRef("onnx", "model.onnx", "", (("height", "224"), ("width", "320")),
             "model.onnx:height=224,width=320")),
    # a path ends at its suffix: a ':' before it is part of the path
    ("a:b.cm:alpha=0.5", SpecRef("cm", "a:b.cm", "", (("alpha", "0.5"),), "a:b.cm:alpha=0.5")),
])
def test_each_form_of_the_grammar(text, expected):
    assert parse_ref(text) == expected
    assert parse_ref(text).is_layer_spec == (expected.kind in ("zoo", "cm"))
    assert parse_ref(text).is_bare_name == (text == "mobilenet_v1")


def test_where_two_cuts_end_in_a_suffix_an_existing_file_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CostModelError, match="cannot read 'y.cm' in 'x.cm:y.cm'"):
        parse_ref("x.cm:y.cm")  # no such file: the first cut, and y.cm is not a setting
    Path("x.cm:y.cm").write_text(SMALL)
    assert parse_ref("x.cm:y.cm") == SpecRef("cm", "x.cm:y.cm", text="x.cm:y.cm")


def test_a_path_with_a_slash_and_a_colon_but_no_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_ref("d/net:alpha=1") == SpecRef("cm", "d/net", "", (("alpha", "1"),),
                                                 "d/net:alpha=1")
    Path("d").mkdir()
    Path("d/net:alpha=1").write_text(SMALL)
    assert parse_ref("d/net:alpha=1").target == "d/net:alpha=1"


@pytest.mark.parametrize("text, says", [
    ("mobilenet_v1:alpha", "cannot read 'alpha' in 'mobilenet_v1:alpha': write key=value"),
    ("mobilenet_v1:=0.5", "cannot read '=0.5'"),
    ("mobilenet_v1:alpha=", "cannot read 'alpha='"),
    ("mobilenet_v1:alpha=0.5,alpha=1", "alpha is set twice"),
    ("net.py", "name the function that returns the module, as net.py:build"),
    ("net.py:1bad", "got '1bad'"),
    ("net.py:a.b:x=1", "got 'a.b:x=1'"),
])
def test_errors_name_the_bad_token(text, says):
    with pytest.raises(CostModelError) as error:
        parse_ref(text)
    assert says in str(error.value)


def test_settings_alone_as_derive_at_reads_them():
    assert parse_settings("H=14, C=32", "--at") == (("H", "14"), ("C", "32"))
    with pytest.raises(CostModelError, match="cannot read 'H' in '--at'"):
        parse_settings("H", "--at")


@pytest.mark.parametrize("model, config", [
    ("mobilenet_v1", {}),
    ("mobilenet_v1", {"alpha": 0.75, "resolution": 224.0}),
    ("shufflenet_v1", {"g": 3, "alpha": "0.5"}),
])
def test_spec_string_is_read_back_by_the_parser(model, config):
    ref = parse_ref(spec_string(model, config))
    assert ref.target == model
    assert dict(ref.settings) == {k: str(int(v)) if isinstance(v, float) and v.is_integer()
                                  else str(v) for k, v in config.items()}


def test_every_kind_has_one_front_end_whose_models_take_input_shape():
    assert tuple(FRONT_ENDS) == KINDS
    from costmodel.frontends.onnx_file import OnnxModelRef
    from costmodel.zoo import ModelRef

    classes = [ModelRef, OnnxModelRef]
    if "torch" in __import__("sys").modules:  # torch_file imports torch; the fast tier has none
        from costmodel.frontends.torch_file import TorchFileRef
        classes.append(TorchFileRef)
    for cls in classes:
        parameters = inspect.signature(cls.build).parameters
        assert list(parameters)[1] == "input_shape", cls
        assert parameters["input_shape"].default is None, cls


def test_input_shape_sets_a_layer_spec_models_size():
    assert build_spec("mobilenet_v1", (1, 3, 160, 160)).macs() == \
        zoo.build("mobilenet_v1", resolution=160).macs()
    assert build_spec("mobilenet_v1", (1, 3, 160, 192)).macs() == \
        zoo.build("mobilenet_v1", height=160, width=192).macs()
    # the SPEC's own resolution wins over --input
    assert build_spec("mobilenet_v1:resolution=128", (1, 3, 160, 160)).macs() == \
        zoo.build("mobilenet_v1", resolution=128).macs()
    with pytest.raises(CostModelError, match="mobilenet_v1:alpha=1 takes 3-channel input; "
                                             "--input gives C=1"):
        build_spec("mobilenet_v1:alpha=1", (1, 1, 160, 160))


def test_the_layer_spec_api_refuses_a_front_ends_file_with_the_way_to_write_one():
    with pytest.raises(CostModelError, match="costmodel import model.onnx -o model.cm"):
        zoo.build("model.onnx")
    with pytest.raises(CostModelError, match="sweeps need a layer-spec model"):
        zoo.resolve("net.py:build", "sweeps")


def test_resolve_takes_every_layer_spec_kind(tmp_path):
    path = tmp_path / "small.cm"
    path.write_text(SMALL)
    assert resolve(f"{path}").build().macs() == 4 * 3 * 9 * 8 * 8
    assert resolve("mobilenet_v1").build().macs() == zoo.build("mobilenet_v1").macs()


def test_the_grammar_is_parsed_only_in_spec_ref():
    """No other module splits a SPEC itself: the helpers that did are gone."""
    assert not hasattr(zoo, "split_spec") and not hasattr(zoo, "parse_values")
    for path in (ROOT / "costmodel").rglob("*.py"):
        if path.name != "ref.py":
            text = path.read_text(encoding="utf-8")
            assert "def split_spec" not in text and "def parse_values" not in text, path
