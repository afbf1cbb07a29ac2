"""Every JSON output validates against its documented schema (docs/schema/*.json): scripts
can rely on the names, the types (shapes as arrays, knob values as numbers) and the keys."""

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from costmodel.cli.app import app

pytestmark = pytest.mark.slow  # jsonschema is a test extra, not in the fast tier

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schema"

#: schema name -> commands whose --format json output it describes
RUNS = {
    "list": [["list"]],
    "compare": [["compare", "mobilenet_v1:alpha=1/3", "vgg16", "shufflenet_v1:g=3"]],
    "summary": [["summary", "mobilenet_v2"], ["summary", "mobilenet_v1", "--memory"]],
    "diff": [["diff", "mobilenet_v1", "mobilenet_v2"]],
    "memory": [["memory", "shufflenet_v2"]],
    "latency": [["latency", "mobilenet_v2", "--hw", "pixel1"]],
    "guidelines": [["guidelines", "shufflenet_v2"]],
    "hardware": [["hardware"]],
    "explain": [["explain", "mobilenet_v2"]],
    "sweep": [["sweep", "mobilenet_v1", "--alpha", "0.5,1/3", "--resolution", "128,224"]],
}


def _json(args):
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _validator(name):
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_schema_is_checked_here():
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(RUNS)


@pytest.mark.parametrize("name", RUNS)
def test_output_validates(name):
    validator = _validator(name)
    for args in RUNS[name]:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(_json(args))]
        assert not errors, f"{' '.join(args)}: {errors[:5]}"


def test_the_schemas_refuse_what_they_replaced():
    """A shape as '224×224×3' text or a knob default as '224' text fails validation."""
    summary = _json(["summary", "mobilenet_v1"])
    summary["layers"][0]["output"] = "112×112×32"
    assert not _validator("summary").is_valid(summary)
    models = _json(["list"])
    models[0]["knobs"][0]["default"] = {"text": "227"}
    assert not _validator("list").is_valid(models)


def test_shapes_and_knob_values_are_numbers():
    layer = _json(["summary", "mobilenet_v1"])["layers"][0]
    assert layer["input"] == [[224, 224, 3]] and layer["output"] == [112, 112, 32]
    knobs = {k["name"]: k for k in
             next(m for m in _json(["list"]) if m["model"] == "mobilenet_v1")["knobs"]}
    assert knobs["alpha"]["default"] == 1 and knobs["resolution"]["default"] == 224
    assert knobs["height"] == {**knobs["height"], "default": 224, "follows": "resolution"}
    assert knobs["rounding"]["choices"] == ["reference", "none"]
