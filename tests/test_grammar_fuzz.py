"""Random architecture files built from the grammar, statement by statement (issue 8).

Hypothesis writes files of header lines (knobs, input), ``let`` variables and functions, blocks,
layer lines with random attributes, and nested sections (``residual:``, ``group``, ``if``,
``add:``/``concat:`` with branches); expressions mix numbers (negative, fractional, huge, tiny),
names, strings that would run code if anything passed them to ``eval``, tables and helper calls.
Whatever comes out, the promise is the hostile corpus's: the file builds into a network whose
every count is a non-negative exact number, or it is refused with a CostModelError (the CLI's
one line, exit 2). No other exception, no marker file, no run away. Most examples run in-process
for speed; a few go through the real command line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from costmodel.errors import CostModelError
from costmodel.spec import build, parse_text

ROOT = Path(__file__).resolve().parents[1]
MARKER = Path(__file__).resolve().parent / "FUZZ_MARKER_must_not_exist"
PAYLOADS = (f"open('{MARKER}','w')", f"__import__('os').system('touch {MARKER}')", "relu",
            "none", "a", "1", "3x3")

OPS = ("conv", "dw", "pw", "fc", "maxpool", "avgpool", "gap", "adaptivepool", "bn", "relu",
       "relu6", "hswish", "lrn", "dropout", "shuffle", "split", "dwsep", "b", "f", "nothing")
KEYS = ("c", "k", "s", "p", "d", "g", "m", "bias", "ceil", "size", "n", "bn", "act", "name", "x")
NAMES = ("cin", "hin", "win", "alpha", "mode", "v", "w", "relu", "q", "c")
FUNCTIONS = ("max", "min", "floor", "ceil", "int", "make_divisible", "f", "h", "open")

good_numbers = st.integers(1, 64).map(str)
odd_numbers = st.one_of(
    st.integers(-3, 300).map(str),
    st.sampled_from(["0", "0.5", "1.5", "2.75", "1e3", "1e-3", "1e300", "1e-999999999",
                     "9" * 50, "1_0", "0x10", "00", ".5", "2.", "3e40", "7e-41"]))
strings = st.sampled_from(PAYLOADS).map(lambda s: f'"{s}"')
#: Mostly sensible leaves, so that many files build and the deep paths are exercised.
atoms = st.one_of(good_numbers, good_numbers, good_numbers, st.just("cin"), st.just("cin"),
                  odd_numbers, st.sampled_from(NAMES), strings)


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "==",
                                                  "!=", "<", ">=", " and ", " or "]),
                       children).map(lambda t: f"({t[0]}{t[1]}{t[2]})")
    call = st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, min_size=0, max_size=3)) \
        .map(lambda t: f"{t[0]}({', '.join(t[1])})")
    conditional = st.tuples(children, children, children).map(
        lambda t: f"({t[0]} if {t[1]} else {t[2]})")
    table = st.tuples(st.lists(st.sampled_from(["1", "2", "0.5", '"a"', '"b"']), min_size=1,
                               max_size=3, unique=True), children, children).map(
        lambda t: "{" + ", ".join(f"{k}: {t[1]}" for k in t[0]) + "}[" + t[2] + "]")
    unary = children.map(lambda c: f"(-{c})")
    return st.one_of(binary, call, conditional, table, unary)


expressions = st.one_of(good_numbers, good_numbers, st.recursive(atoms, _combine, max_leaves=6))


def _item(expr: str) -> str:
    """An expression as one space-free item of a line (spaces only inside parentheses)."""
    return f"({expr})" if " " in expr else expr


#: Layer lines as the zoo writes them, with each value drawn from ``expressions``.
TEMPLATES = ("conv {} k={}", "conv {} k=3 s={} bn=1 act=relu", "dw s={}", "dw k={} m={}",
             "pw {}", "pw {} g={}", "fc {}", "maxpool {} s={}", "avgpool {} p={}", "gap",
             "adaptivepool {}", "relu", "bn", "lrn {}", "shuffle {}", "split {}",
             "dwsep {} s={}", "relu6 n={}", "conv {} k=1 name={}", "b {}", "conv {} k={} d={}")
templated = st.tuples(st.sampled_from(TEMPLATES), st.lists(expressions.map(_item), min_size=3,
                                                           max_size=3)).map(
    lambda t: t[0].format(*t[1]))
free_form = st.tuples(
    st.sampled_from(OPS), st.lists(expressions.map(_item), max_size=3),
    st.lists(st.tuples(st.sampled_from(KEYS), expressions.map(_item)), max_size=3,
             unique_by=lambda kv: kv[0]),
).map(lambda t: " ".join([t[0], *t[1], *(f"{k}={v}" for k, v in t[2])]))
layer_lines = st.one_of(templated, templated, templated, free_form)
lets = st.one_of(
    st.tuples(st.sampled_from(["v", "w", "q"]), expressions).map(lambda t: f"let {t[0]} = {t[1]}"),
    st.tuples(st.sampled_from(["f", "h"]), expressions).map(lambda t: f"let {t[0]}(c) = {t[1]}"),
)


def _section(children):
    def indent(lines):
        return ["    " + line for line in lines]

    body = st.lists(children, min_size=1, max_size=3).map(lambda ls: [x for l in ls for x in l])
    residual = body.map(lambda b: ["residual:", *indent(b)])
    group = body.map(lambda b: ["group g:", *indent(b)])
    cond = st.tuples(expressions, body, body).map(
        lambda t: [f"if {t[0]}:", *indent(t[1]), "else:", *indent(t[2])])
    merge = st.tuples(st.sampled_from(["add", "concat", "mul"]), body, body).map(
        lambda t: [f"{t[0]}:", "    branch:", *indent(indent(t[1])), "    branch:",
                   *indent(indent(t[2]))])
    return st.one_of(residual, group, cond, merge)


statements = st.recursive(st.one_of(layer_lines, layer_lines, lets, st.just("identity"))
                          .map(lambda s: [s]), _section, max_leaves=6)
knob_lines = st.lists(st.sampled_from([
    "knob alpha 1 positive", "knob alpha 0.5 positive min=0.25 max=2", "knob alpha 1 positive",
    "knob mode a choice a|b", f"knob mode {PAYLOADS[0]} choice {PAYLOADS[0]}|b",
    "knob r 32 int min=8", "knob alpha -1 positive", "knob q 1e-999999999 positive",
]), max_size=2, unique=True)
blocks = st.lists(st.sampled_from([
    "block b(c, s=1):\n    conv c k=3 s=s\n    relu",
    "block b(c, s=1):\n    conv c k=3 s=s\n    relu",
    "block b(c):\n    b c",
    "block b(c, c):\n    relu",
    "block b(x=cin):\n    pw max(x, 8)\n    dw",
]), max_size=1)
input_lines = st.one_of(
    st.just("input 3 32 32"), st.just("input 3 64 64"),
    st.tuples(expressions, expressions, expressions).map(
        lambda t: "input " + " ".join(_item(e) for e in t)))

files = st.tuples(knob_lines, input_lines, blocks, st.lists(statements, min_size=1,
                                                            max_size=6)).map(
    lambda t: "\n".join(["model fuzz", *t[0], t[1], *t[2],
                         *(line for s in t[3] for line in s)]) + "\n")


def _check_counts(network) -> None:
    for layer in network.layers:
        for value in (layer.counts.macs, layer.counts.weights, layer.counts.activations,
                      layer.output.c, layer.output.h, layer.output.w):
            value = sympy.sympify(value, strict=True)
            assert value.is_number and value.is_Rational, (layer.name, value)
            assert value >= 0, (layer.name, value)
        assert layer.output.numel > 0, layer.name


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(files)
def test_random_files_build_or_are_refused_cleanly(text):
    try:
        network = build(parse_text(text, "fuzz.cm"))
    except CostModelError as exc:
        assert str(exc).startswith("fuzz.cm") or ": " in str(exc)
    else:
        _check_counts(network)
    assert not MARKER.exists(), text


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(files)
def test_random_files_through_the_command_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.cm"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "costmodel", "compare", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert not MARKER.exists(), text
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0].startswith("costmodel: error: ")


@pytest.fixture(autouse=True)
def _no_marker_left():
    yield
    if MARKER.exists():
        MARKER.unlink()
        pytest.fail("a payload ran")
