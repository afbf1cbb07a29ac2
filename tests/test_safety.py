"""Issue 8, in-process: the number reader, SPEC resolution, files with a BOM or CRLF, short
error messages, and that the README's Safety section states the limits and the attribute
domains the code enforces."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sympy import Rational

from costmodel import limits, zoo
from costmodel.core.numbers import is_number_text, read_number
from costmodel.core.ops import DOMAINS, OPS
from costmodel.errors import CostModelError, SpecError
from costmodel.spec import build, parse_text

ROOT = Path(__file__).resolve().parents[1]
SMALL = "model t\ninput 3 32 32\nconv 8 k=3 s=2 bn=1 act=relu\ngap\nfc 10\n"


@pytest.mark.parametrize("text, value", [
    ("14", Rational(14)), ("0.75", Rational(3, 4)), ("1e-3", Rational(1, 1000)),
    ("300e6", Rational(300_000_000)), ("7/10", Rational(7, 10)), (".5", Rational(1, 2)),
    ("-2.50", Rational(-5, 2)), ("1E40", Rational(10) ** 40),
])
def test_numbers_are_read_exactly(text, value):
    assert is_number_text(text) and read_number(text) == value


@pytest.mark.parametrize("text", ["1_0", "0x10", "inf", "nan", "1e", "abc", "1/2/3", "",
                                  "open('x','w')", "１２"])
def test_what_is_not_a_number(text):
    assert not is_number_text(text)
    with pytest.raises(CostModelError):
        read_number(text)


@pytest.mark.parametrize("text", ["1e-999999999", "1e999999999", "1e41", "9" * 41, "1/0"])
def test_numbers_beyond_the_limits_are_refused_at_once(text):
    start = time.process_time()
    with pytest.raises(CostModelError):
        read_number(text)
    assert time.process_time() - start < 0.1


def test_underscores_in_knob_values_are_refused():
    with pytest.raises(CostModelError, match="alpha=1_0"):
        zoo.build("mobilenet_v1:alpha=1_0")


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted(tmp_path):
    plain = build(parse_text(SMALL))
    for name, data in (("bom.cm", "\ufeff" + SMALL), ("crlf.cm", SMALL.replace("\n", "\r\n"))):
        (tmp_path / name).write_bytes(data.encode("utf-8"))
        network = zoo.build(str(tmp_path / name))
        assert (network.macs(), network.params()) == (plain.macs(), plain.params())


def test_a_model_name_wins_over_a_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("vgg16").write_text(SMALL)
    assert zoo.resolve("vgg16").name == "vgg16" and zoo.build("vgg16").macs() > 10**10
    assert zoo.build("./vgg16").macs() == build(parse_text(SMALL)).macs()


def test_a_path_may_hold_a_colon(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a:b.cm").write_text(SMALL.replace("conv 8", "conv (8*alpha)").replace(
        "input", "knob alpha 1 positive\ninput"))
    assert zoo.build("a:b.cm:alpha=0.5").macs() * 2 == zoo.build("a:b.cm").macs()


def test_an_error_quotes_an_excerpt_of_a_long_expression():
    long = "max(" + ", ".join(["cin"] * 150) + ", 'x')"
    with pytest.raises(SpecError) as info:
        build(parse_text(f"model t\ninput 3 32 32\nconv ({long})\n"))
    assert "expected a number" in str(info.value) and len(str(info.value)) < 300


def test_a_recursive_let_names_the_function():
    with pytest.raises(SpecError, match=r"let function grow\(\) calls itself"):
        build(parse_text("model t\ninput 3 32 32\nlet grow(c) = grow(c) + 1\nconv grow(8)\n"))


@pytest.mark.slow
def test_limits_hold_a_real_size_and_refuse_one_more():
    build(parse_text(f"model t\ninput 3 8 8\nrelu n={limits.MAX_REPEAT}\n"))
    with pytest.raises(SpecError, match="MAX_REPEAT"):
        build(parse_text(f"model t\ninput 3 8 8\nrelu n={limits.MAX_REPEAT + 1}\n"))


def _readme_safety() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index("## Safety"):text.index("## Speed")]


def test_the_readme_states_every_limit_with_its_value():
    section = _readme_safety()
    rows = dict(re.findall(r"^\| `((?:MAX|MIN)_\w+)` \| ([^|]+) \|", section, re.M))
    stated = {name for name in dir(limits) if name.startswith(("MAX_", "MIN_"))} - {
        "MAX_NUMBER_DIGITS", "MAX_QUOTED_CHARS"}
    assert set(rows) == stated
    for name, value in rows.items():
        expected = getattr(limits, name)
        shown = f"10^{limits.MAX_NUMBER_DIGITS}" if name == "MAX_NUMBER" else str(expected)
        assert value.strip() == shown, name


def test_the_readme_states_the_attribute_domains_declared_with_the_ops():
    section = _readme_safety()
    for domain, description in DOMAINS.items():
        parts = []
        for name, definition in OPS.items():
            names = [a.name for a in definition.attributes if a.domain == domain]
            if names:
                parts.append(f"`{name}` {' '.join(names)}")
        assert f"| {description} | {'; '.join(parts)} |" in section, domain


def test_no_user_text_can_reach_sympify():
    """The audit, kept true: no ``eval``, no ``parse_expr``, and every ``sympify`` in the
    package is strict (strings refused, never parsed)."""
    for path in (ROOT / "costmodel").rglob("*.py"):
        code = "\n".join(line.split("#")[0] for line in path.read_text().splitlines())
        assert "eval(" not in code.replace("_eval(", "").replace(".eval(", "") \
            .replace("def eval(", ""), path
        assert "parse_expr" not in code.replace("``parse_expr``", ""), path
        for call in re.finditer(r"sympify\(", code):
            tail = code[call.end():call.end() + 200]
            assert "strict=True" in tail.split("\n\n")[0], (path, tail[:80])
