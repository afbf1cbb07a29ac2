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
