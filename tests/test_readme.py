"""The README's examples show what the code computes."""

from pathlib import Path

import pytest

from costmodel import zoo
from costmodel.core import symbols as S
from tests import readme_examples

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_example_values():
    net = zoo.build("mobilenet_v1", alpha="0.75")
    assert f"# {(net.macs(), net.params(), net.params('torch'))}" in README
    sym = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none")
    assert f"# {sym.macs()}" in README


def test_quick_start_has_exactly_the_three_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines()
                if line.startswith(("pip ", "python ", "costmodel "))]
    assert commands == ['pip install . && costmodel compare mobilenet_v1 vgg16',
                        'pip install ".[test]" && python -m pytest',
                        'python -m pytest -m "not slow"']
    ci = (ROOT / ".ci/run").read_text()
    assert commands[1] in ci and "not slow" not in ci, "CI runs the README's full test command"


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


def _cli_options() -> dict[str, dict[str, tuple[str, ...] | None]]:
    """Each command's options and, for a choice, its values: from the command line itself."""
    import click
    import typer.main

    from costmodel.cli.app import app

    group = typer.main.get_command(app)
    options = {}
    for name, command in group.commands.items():
        options[name] = {opt: tuple(param.type.choices) if isinstance(param.type, click.Choice)
                         else None
                         for param in command.params for opt in param.opts}
    return options


def test_every_documented_option_exists_with_the_documented_choices():
    import re

    options = _cli_options()
    table = README.split("## Commands", 1)[1].strip().split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `costmodel ")]
    assert {row.split("`")[1].split()[1] for row in rows} <= set(options), \
        "the README's table lists only commands that exist"
    assert all(f"costmodel {name}" in README for name in options), \
        "the README names every command"
    for row in rows:
        command = row.split("`")[1].split()[1]
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
        documented = re.findall(r"`(--[a-z-]+)(?: ([^`]*))?`", cells[2])
        assert documented, command
        for option, values in documented:
            assert option in options[command], f"costmodel {command} has no {option}"
            choices = options[command][option]
            if values and "\\|" in values:
                assert tuple(values.split("\\|")) == choices, (command, option)
    # the README's examples elsewhere use only options their command has
    for line in re.findall(r"^\$? ?costmodel (.*)$", README, re.M):
        words = line.split("#")[0].split()
        if words and words[0] in options:
            for word in words[1:]:
                if word.startswith("-") and word not in ("-o",):
                    assert word.split("=")[0] in options[words[0]], line


@pytest.mark.slow
@pytest.mark.parametrize("example", readme_examples.examples(README),
                         ids=lambda example: example.command)
def test_every_console_example_is_what_the_command_prints(example):
    # in a 100-column terminal, stdout and stderr; `costmodel report --readme README.md
    # --python-examples` rewrites the stale ones
    printed = readme_examples.run(example.command)
    assert readme_examples.matches(example.shown, printed), "\n".join(printed)


def test_an_elision_stands_for_lines_and_nothing_else():
    assert readme_examples.matches(("a", "...", "d"), ("a", "b", "c", "d"))
    assert readme_examples.matches(("a", "...", "c", "..."), ("a", "b", "c", "d"))
    assert not readme_examples.matches(("a", "...", "e"), ("a", "b", "c", "d"))
    assert not readme_examples.matches(("a", "c"), ("a", "b", "c"))
    assert len(readme_examples.examples(README)) >= 9


def test_a_readme_example_that_would_write_a_file_or_run_code_is_not_run():
    from costmodel.cli.readme_examples import arguments
    from costmodel.errors import CostModelError

    assert arguments("costmodel compare mobilenet_v1") == ["compare", "mobilenet_v1"]
    for command, why in [("rm -rf /", "only `costmodel"), ("costmodel report", "not run from"),
                         ("costmodel sweep x -o out.csv", "not run from"),
                         ("costmodel compare x -o f", "writes a file"),
                         ("costmodel compare m.py:build", "--python-examples"),
                         ("costmodel compare 'x", "quotation")]:
        with pytest.raises(CostModelError, match=why):
            arguments(command)


@pytest.mark.slow
def test_report_readme_rewrites_a_stale_example_and_keeps_the_rest(tmp_path):
    import subprocess
    import sys

    readme = tmp_path / "README.md"
    readme.write_text("Intro\n\n```console\n$ costmodel derive separable_ratio  # note\nold\n"
                      "```\n\n```console\n$ costmodel report\nx\n```\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "costmodel", "report", "--readme",
                           str(readme)], capture_output=True, text=True, cwd=ROOT)
    text = readme.read_text(encoding="utf-8")
    assert done.returncode == 1 and "left as is" in done.stderr and "rewrote" in done.stderr
    assert text.startswith("Intro\n\n```console\n$ costmodel derive separable_ratio  # note\n")
    assert "old\n" not in text and text.endswith("```console\n$ costmodel report\nx\n```\n")
    assert readme_examples.matches(readme_examples.examples(readme)[0].shown,
                                   readme_examples.run("costmodel derive separable_ratio"))
