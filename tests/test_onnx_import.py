"""`costmodel import model.onnx > net.cm`: an ONNX file written as a layer-spec file builds to
the same counts, and `costmodel derive net.cm` gives its closed form in R."""

import subprocess
import sys
from pathlib import Path

import onnx  # noqa: F401  (a missing onnx fails, never skips)
import pytest

from costmodel import zoo
from costmodel.analysis.derive_network import derive_network
from costmodel.frontends.onnx_file import load_spec
from costmodel.frontends.to_spec import network_to_spec
from costmodel.spec import build, parse_text
from tests.onnx_writer import network_to_onnx, onnx_readable

pytestmark = pytest.mark.slow  # ONNX files, subprocesses and a torch export

ROOT = Path(__file__).resolve().parents[1]


#: The zoo models whose every op the ONNX reader reads (tests/onnx_writer.py onnx_readable).
ONNX_ZOO = [name for name in zoo.names() if onnx_readable(zoo.build(name))]


def write(network, tmp_path, dynamic=False) -> str:
    path = tmp_path / f"{network.name}.onnx"
    onnx.save(network_to_onnx(network, dynamic=dynamic), str(path))
    return str(path)


@pytest.mark.parametrize("name", ONNX_ZOO)
def test_every_zoo_model_round_trips_through_onnx_and_a_spec_file(name, tmp_path):
    spec = zoo.build(name)
    text = network_to_spec(load_spec(write(spec, tmp_path)).build(), source=f"{name}.onnx")
    rebuilt = build(parse_text(text, f"{name}.cm"))
    for convention in ("paper", "torch"):
        assert rebuilt.macs(convention) == spec.macs(convention)
        assert rebuilt.params(convention) == spec.params(convention)
    # the written file's resolution knob follows the input side like the zoo's own spec,
    # except after an adaptive pool: ONNX has none, so the file fixes its window (AlexNet's and
    # VGG-16's 6x6 / 7x7 before the FC layers), and the written file says so
    at_160 = build(parse_text(text, f"{name}.cm"), {"resolution": 160})
    if any(layer.op == "adaptivepool" for layer in spec.layers):
        assert "do not follow the resolution" in text
    else:
        assert at_160.macs() == zoo.build(name, resolution=160).macs()


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18", "shufflenet_v1"])
def test_the_closed_form_in_r_of_an_onnx_file_is_its_specs(name, tmp_path):
    path = write(zoo.build(name), tmp_path, dynamic=True)
    cm = tmp_path / "net.cm"
    cm.write_text(network_to_spec(load_spec(path, "resolution=224").build(), source=path))
    assert derive_network(str(cm)).expr == derive_network(name).expr


def test_import_then_derive_on_the_command_line(tmp_path):
    path = write(zoo.build("mobilenet_v2"), tmp_path, dynamic=True)
    imported = subprocess.run([sys.executable, "-m", "costmodel", "import",
                               f"{path}:resolution=224"], cwd=ROOT, capture_output=True,
                              text=True)
    assert imported.returncode == 0, imported.stderr
    cm = tmp_path / "net.cm"
    cm.write_text(imported.stdout)
    derived = subprocess.run([sys.executable, "-m", "costmodel", "derive", str(cm), "-f",
                              "json"], cwd=ROOT, capture_output=True, text=True)
    assert derived.returncode == 0, derived.stderr
    assert '"47751*R**2/8 + 1280000"' in derived.stdout  # as the README's mobilenet_v2


def test_a_torch_export_with_dynamic_axes_gets_its_closed_form(tmp_path):
    import torch

    from tests.test_onnx_torch import SPEC, export, tiny_module

    path = export(tiny_module(), tmp_path / "tiny.onnx", dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE,
                  dynamic_axes={"image": {2: "height", 3: "width"}})
    cm, original = tmp_path / "net.cm", tmp_path / "tiny.cm"
    cm.write_text(network_to_spec(load_spec(path, "resolution=64").build(), source=path))
    original.write_text(SPEC)
    imported, expected = derive_network(str(cm)), derive_network(str(original))
    assert imported.expr == expected.expr and imported.expr.free_symbols


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_import_of_a_dynamic_torch_export_works_as_the_readme_says(tmp_path, dynamo):
    """Issue 16 item 10: `costmodel import model.onnx -o net.cm` on a file exported with
    dynamic height and width, and the command `solve model.onnx` suggests."""
    import torch  # noqa: F401  (the test extra has it; this module is slow as a whole)
    from tests.test_onnx_torch import export, tiny_module

    path = export(tiny_module(), tmp_path / "model.onnx", dynamo=dynamo,
                  dynamic_axes={"image": {2: "height", 3: "width"}})
    solve = subprocess.run([sys.executable, "-m", "costmodel", "solve", path, "--macs", "1M",
                            "--for", "resolution"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert solve.returncode == 2
    suggested = solve.stderr.split("costmodel import ")[1].split(",")[0].split()
    assert suggested == [path, "-o", "model.cm"]
    imported = subprocess.run([sys.executable, "-m", "costmodel", "import", *suggested],
                              cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    text = (tmp_path / "model.cm").read_text()
    assert "dynamic input height and width taken as 224" in text
    written = zoo.build(str(tmp_path / "model.cm"), resolution=96)
    counted = load_spec(path, "resolution=96").build()
    assert (written.macs(), written.params()) == (counted.macs(), counted.params())
    derived = subprocess.run([sys.executable, "-m", "costmodel", "derive",
                              str(tmp_path / "model.cm")], capture_output=True, text=True)
    assert derived.returncode == 0, derived.stderr
