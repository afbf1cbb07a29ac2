"""The README's examples show what the code computes."""

from pathlib import Path

from costmodel import zoo
from costmodel.core import symbols as S

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_example_values():
    net = zoo.build("mobilenet_v1", alpha="0.75")
    assert f"# {(net.macs(), net.params(), net.params('torch'))}" in README
    sym = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none")
    assert f"# {sym.macs()}" in README


def test_quick_start_has_exactly_the_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines()
                if line.startswith(("pip ", "python ", "costmodel "))]
    assert commands == ['pip install . && costmodel compare mobilenet_v1 vgg16',
                        'pip install ".[test]" && python -m pytest']
    assert commands[1] in (ROOT / ".ci/run").read_text(), "CI runs the README's test command"


def test_the_complete_spec_example_builds(tmp_path):
    import re

    from costmodel.spec import load_model

    section = README.split("## The layer-spec language", 1)[1]
    text = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "tiny.cm"
    path.write_text(text)
    net = load_model(path)
    assert net.name == "tiny_mobilenet" and net.output.c == 10
    assert [layer.name for layer in net.layers if layer.op == "add"] == ["stage3.add1"]
    narrow = load_model(path, {"alpha": "0.5", "head": "narrow"})
    assert narrow.macs() < net.macs()
