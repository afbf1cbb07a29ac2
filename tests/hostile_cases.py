"""The hostile corpus: files and command lines that try to run code, exhaust resources, pass
nonsense or leak errors (issue 8). Each must end with one ``costmodel: error:`` line, exit
status 2, no traceback, no marker file, within the time and memory caps of
``tests/test_hostile.py``.

A case is ``(id, files, argv)``: ``files`` maps names (relative to a fresh folder) to their
content (str, or bytes written as they are); ``argv`` is the command line after
``costmodel``. ``{dir}`` in both is the folder, ``{marker}`` the marker file a payload tries to
create: ``open('{marker}', 'w')`` runs if any path reaches ``eval``.
"""

from __future__ import annotations

PAYLOAD = "open('{marker}','w')"
IMPORT = "__import__('os').system('touch {marker}')"


def wrap(body: str, header: str = "") -> str:
    """A complete file around ``body`` (the statements under test)."""
    return f"model t\n{header}input 3 32 32\n{body}\ngap\nfc 10\n"


def file_case(case_id: str, body: str, header: str = "", command: str = "compare"):
    return case_id, {"f.cm": wrap(body, header)}, [command, "{dir}/f.cm"]


def nested(keyword: str, depth: int) -> str:
    lines = []
    for level in range(depth):
        lines.append("    " * level + keyword)
    lines.append("    " * depth + "relu")
    return "\n".join(lines)


CASES: list[tuple[str, dict[str, str | bytes], list[str]]] = [
    # 1. code would run: a string reaching a sympy function (sympify calls eval)
    *(file_case(f"string-in-{f}", f'conv {f}("{PAYLOAD}",8) k=3') for f in ("max", "min")),
    *(file_case(f"string-in-{f}", f'conv {f}("{PAYLOAD}") k=3') for f in ("floor", "ceil", "int")),
    file_case("string-in-make_divisible", f'conv make_divisible("{PAYLOAD}",8) k=3'),
    ("string-input-line", {"f.cm": f'model t\ninput "{PAYLOAD}" 8 8\nconv max(cin,8)\n'},
     ["compare", "{dir}/f.cm"]),
    file_case("string-through-let", f'let s = "{PAYLOAD}"\nconv max(s,8) k=3'),
    file_case("string-through-table", f'conv max({{1: "{PAYLOAD}"}}[1],8) k=3'),
    file_case("string-through-block-arg", f'b "{PAYLOAD}"',
              header="block b(c):\n    conv max(c,8) k=3\n"),
    file_case("string-through-let-function", f'let f(x) = max(x, 8)\nconv f("{PAYLOAD}")'),
    file_case("string-arithmetic", f'conv ("{PAYLOAD}"*2)'),
    file_case("string-unary-minus", f'conv (-"{PAYLOAD}")'),
    file_case("string-as-channels", f'conv c="{PAYLOAD}"'),
    file_case("string-as-kernel", 'conv 8 k="3"'),
    file_case("string-as-repeat", f'relu n="{PAYLOAD}"'),
    file_case("string-as-activation", f'conv 8 k=3 act="{PAYLOAD}"'),
    file_case("string-as-condition", f'if "{PAYLOAD}":\n    relu'),
    file_case("string-less-than", 'if "a" < 3:\n    relu'),
    file_case("string-table-key", f'conv {{1: 8}}["{PAYLOAD}"]'),
    ("choice-knob-on-command-line",
     {"f.cm": wrap("conv max(head,8)", "knob head a choice a|b\n")},
     ["compare", "{dir}/f.cm:head=" + IMPORT.replace(",", ";")]),
    ("choice-knob-default-payload-derive",
     {"f.cm": wrap("conv max(head,8)", f"knob head {PAYLOAD} choice {PAYLOAD}|b\n")},
     ["derive", "{dir}/f.cm", "--format", "json"]),
    ("choice-knob-unused-payload-derive-json",
     {"f.cm": wrap("conv 8 k=3", f"knob head {PAYLOAD} choice {PAYLOAD}|b\n")},
     ["derive", "{dir}/f.cm:head=c", "--format", "json"]),
    ("choice-knob-default-payload-compare",
     {"f.cm": wrap("conv max(head,8)", f"knob head {PAYLOAD} choice {PAYLOAD}|b\n")},
     ["compare", "{dir}/f.cm"]),
    file_case("import-call", f"conv {IMPORT}".replace(" ", "") + " k=3"),
    file_case("attribute-access", "conv ().__class__"),
    file_case("lambda", "conv (lambda: 8)()"),
    file_case("eval-call", 'conv eval("8")'),
    file_case("dunder-name", "conv __builtins__"),
    file_case("fstring", 'conv max(f"{8}",8)'),
    file_case("starred", "conv max(*[8])"),
    file_case("walrus", "conv (x:=8)"),
    ("spec-value-payload", {}, ["compare", "mobilenet_v1:alpha=" + IMPORT.replace(",", ";")]),
    ("derive-at-payload", {}, ["derive", "conv", "--at", "H=" + PAYLOAD.replace(",", ";")]),
    ("sweep-knob-payload", {"f.cm": wrap("conv max(head,8)", "knob head a choice a|b\n")},
     ["sweep", "{dir}/f.cm", "--knob", "head=a;" + PAYLOAD.replace(",", ";")]),
    ("solve-budget-payload", {}, ["solve", "mobilenet_v1", "--macs", IMPORT]),
    ("derive-symbols-payload", {}, ["derive", "mobilenet_v1", "--symbols", IMPORT]),

    # 2. resources: huge literals, numbers that grow, huge structure, huge input
    ("spec-tiny-alpha", {}, ["compare", "mobilenet_v1:alpha=1e-999999999"]),
    ("spec-huge-alpha", {}, ["compare", "mobilenet_v1:alpha=1e300"]),
    file_case("file-tiny-literal", "conv max(8,1e-999999999)"),
    file_case("file-huge-literal", "conv (1e300)"),
    file_case("file-long-literal", "conv " + "9" * 500),
    file_case("knob-min-tiny", "conv 8", header="knob a 1 positive min=1e-999999999\n"),
    ("sweep-tiny-alpha", {}, ["sweep", "mobilenet_v1", "--alpha", "1e-999999999"]),
    ("derive-at-tiny", {}, ["derive", "conv", "--at", "H=1e-999999999"]),
    ("solve-macs-tiny", {}, ["solve", "mobilenet_v1", "--macs", "1e-999999999"]),
    ("solve-macs-huge", {}, ["solve", "mobilenet_v1", "--macs", "1e999999999"]),
    file_case("power-tower", "conv (((2**64)**64)**64)"),
    file_case("power-big-exponent", "conv 9**9**9"),
    file_case("power-negative-exponent", "conv (2**-100000)"),
    file_case("let-squares-40-times", "let a0 = 3\n" + "\n".join(
        f"let a{i + 1} = a{i}*a{i}" for i in range(40)) + "\nconv a40"),
    file_case("pw-cin-squared-repeated", "pw (cin*cin) n=40"),
    file_case("pw-cin-power-repeated", "pw (cin**64) n=8"),
    file_case("concat-doubling", "d n=1000", header="block d():\n    concat:\n"
              "        branch:\n            identity\n        branch:\n            identity\n"),
    file_case("depth-multiplier-growing", "dw m=64 n=100"),
    file_case("repeat-a-billion", "relu n=1000000000"),
    file_case("blocks-doubling", "b39", header="block b0():\n    relu\n" + "".join(
        f"block b{i}():\n    b{i - 1}\n    b{i - 1}\n" for i in range(1, 40))),
    file_case("let-functions-doubling", "let f0(x) = x + 1\n" + "\n".join(
        f"let f{i}(x) = f{i - 1}(x) + f{i - 1}(x)" for i in range(1, 61)) + "\nconv f60(1)"),
    file_case("let-functions-wide", "let f0(x) = x\n" + "".join(
        f"let f{i}(x) = max(" + ", ".join([f"f{i - 1}(x)"] * 40) + ")\n" for i in range(1, 8))
        + "conv f7(1) k=3"),
    file_case("many-heavy-lines", "let f0(x) = x\n" + "".join(
        f"let f{i}(x) = max(" + ", ".join([f"f{i - 1}(x)"] * 40) + ")\n" for i in range(1, 3))
        + "conv f2(1) k=3\n" * 300),
    ("too-small-search-on-a-huge-net", {"f.cm": "model t\nknob resolution 32 int\n"
                                        "input 3 resolution resolution\n"
                                        + "relu n=10000\n" * 1 + "dropout n=9000\n"
                                        "maxpool 64\ngap\nfc 10\n"},
     ["compare", "{dir}/f.cm"]),
    file_case("block-calls-itself", "b", header="block b():\n    relu\n    b\n"),
    file_case("blocks-call-each-other", "b1", header="block b1():\n    b2\nblock b2():\n    b1\n"),
    file_case("let-calls-itself", "let f(x) = f(x) + 1\nconv f(8)"),
    file_case("nested-groups-3000", nested("group g:", 3000)),
    file_case("nested-ifs-3000", nested("if 1 == 1:", 3000)),
    file_case("nested-residuals-3000", nested("residual:", 3000)),
    file_case("nested-groups-60", nested("group g:", 60)),
    file_case("nested-ifs-60", nested("if 1 == 1:", 60)),
    file_case("nested-residuals-60", nested("residual:", 60)),
    file_case("nested-in-blocks", "b0", header="".join(
        f"block b{i}():\n" + "\n".join("    " * (level + 1) + "group g:" for level in range(10))
        + "\n" + "    " * 11 + f"b{i + 1}\n" for i in range(8)) + "block b8():\n    relu\n"),
    file_case("plus-terms-3000", "conv (" + "+".join(["1"] * 3000) + ")"),
    file_case("unary-minus-100000", "conv (" + "-" * 100_000 + "8)"),
    file_case("brackets-200-deep", "conv " + "(" * 200 + "8" + ")" * 200),
    file_case("long-line", "relu " + "x" * 20_000),
    ("huge-file", {"f.cm": wrap("relu") + "# padding\n" * 200_000}, ["compare", "{dir}/f.cm"]),
    ("dev-zero", {}, ["compare", "/dev/zero"]),
    ("collapse-huge-n", {}, ["collapse", "--n", "1000000000"]),
    ("collapse-huge-m", {}, ["collapse", "--m", "100000000"]),
    ("sweep-huge-check", {}, ["sweep", "mobilenet_v1", "--alpha", "0.5,1", "--check",
                              "1000000000"]),
    ("sweep-huge-grid", {}, ["sweep", "mobilenet_v1", "--alpha", "0.001:100:0.001",
                             "--resolution", "1:100000:1"]),
    # refused only after a range of 10^6 values was expanded and read (about 6-9 s) before
    # the ranges were counted and checked arithmetically: a duplicate, a bad value after the
    # range, one value past the limit, a second range past the limit
    ("sweep-range-then-duplicate", {}, ["sweep", "mobilenet_v1", "--resolution",
                                        "1:999999:1,5"]),
    ("sweep-range-then-bad-value", {}, ["sweep", "mobilenet_v1", "--resolution",
                                        "1:999999:1,0"]),
    ("sweep-range-then-one-more", {}, ["sweep", "mobilenet_v1", "--resolution",
                                       "1:1000000:1,2000000"]),
    ("sweep-two-big-ranges", {}, ["sweep", "mobilenet_v1", "--alpha",
                                  "0.000001:0.9:0.000001,0.9000005:1.1:0.000001"]),
    ("sweep-big-range-fraction-step", {}, ["sweep", "mobilenet_v1", "--resolution",
                                           "1:900000:1,5:6:0.5"]),

    # 3. nonsense that used to print counts
    file_case("conv-negative", "conv -8"),
    file_case("conv-zero", "conv 0"),
    file_case("fc-negative", "fc -10"),
    file_case("kernel-zero", "conv 8 k=0"),
    file_case("kernel-fraction", "conv 8 k=1.5"),
    file_case("kernel-negative", "conv 8 k=-3"),
    file_case("padding-negative", "conv 8 k=3 p=-5"),
    file_case("padding-a-third", "conv 8 k=3 p=1/3"),
    file_case("dilation-zero", "conv 8 k=3 d=0"),
    file_case("depth-multiplier-zero", "dw m=0"),
    file_case("adaptivepool-negative", "adaptivepool -7"),
    file_case("bn-string", 'conv 8 k=3 bn="yes"'),
    file_case("bn-two", "conv 8 k=3 bn=2"),
    file_case("bias-two", "conv 8 k=3 bias=2"),
    file_case("irrational-channels", "conv (2**0.5)"),
    file_case("stride-zero", "conv 8 k=3 s=0"),
    file_case("stride-fraction", "conv 8 k=3 s=2.5"),
    file_case("maxpool-zero", "maxpool 0"),
    file_case("unknown-activation", 'conv 8 k=3 act="relu7"'),
    file_case("repeat-zero", "relu n=0"),
    file_case("repeat-fraction", "relu n=1.5"),
    ("input-zero-channels", {"f.cm": "model t\ninput 0 32 32\nconv 8\ngap\nfc 10\n"},
     ["compare", "{dir}/f.cm"]),
    file_case("duplicate-layer-name", "conv 8 k=3 name=a\nconv 8 k=1 name=a"),
    file_case("duplicate-block", "b", header="block b():\n    relu\nblock b():\n    relu6\n"),
    file_case("duplicate-block-param", "b 8 8", header="block b(c, c):\n    conv c\n"),
    file_case("duplicate-let-param", "let f(x, x) = x\nconv f(8, 8)"),
    file_case("duplicate-knob", "conv 8", header="knob a 1 positive\nknob a 2 positive\n"),
    file_case("duplicate-input", "conv 8", header="input 3 32 32\n"),
    file_case("block-named-like-op", "relu", header="block conv(c):\n    relu\n"),
    file_case("duplicate-table-key", "conv {1: 8, 1: 16}[1]"),
    ("duplicate-spec-setting", {}, ["compare", "mobilenet_v1:alpha=0.5,alpha=0.75"]),
    ("underscore-literal-spec", {}, ["compare", "mobilenet_v1:alpha=1_0"]),
    file_case("underscore-literal-file", "conv 1_6"),
    file_case("hex-literal", "conv 0x10"),
    file_case("knob-min-not-number", "conv 8", header="knob a 1 positive min=abc\n"),
    file_case("knob-default-not-number", "conv 8", header="knob a abc positive\n"),
    file_case("choice-duplicate", "conv 8", header="knob a x choice x|x\n"),

    # 5. errors that used to leak: unwritable outputs, usage errors
    ("sweep-output-missing-folder", {}, ["sweep", "mobilenet_v1", "--alpha", "0.5,1",
                                         "--output", "{dir}/missing/x.csv"]),
    ("sweep-output-directory", {"d/keep": ""}, ["sweep", "mobilenet_v1", "--alpha", "0.5,1",
                                                "--output", "{dir}/d"]),
    ("sweep-output-proc", {}, ["sweep", "mobilenet_v1", "--alpha", "0.5,1",
                               "--output", "/proc/costmodel.csv"]),
    ("sweep-plot-missing-folder", {}, ["sweep", "mobilenet_v1", "--alpha", "0.5,1",
                                       "--plot", "{dir}/missing/x.png"]),
    ("breakdown-out-directory", {"d.png/keep": ""}, ["breakdown", "mobilenet_v1",
                                                     "--out", "{dir}/d.png"]),
    ("breakdown-out-proc", {}, ["breakdown", "mobilenet_v1", "--out", "/proc/costmodel.png"]),
    ("collapse-out-proc", {}, ["collapse", "--m", "2,3", "--n", "50",
                               "--out", "/proc/costmodel.svg"]),
    ("collapse-out-directory", {"d.svg/keep": ""}, ["collapse", "--m", "2,3", "--n", "50",
                                                    "--out", "{dir}/d.svg"]),
    ("summary-unreadable-file", {"f.cm": wrap("relu")}, ["summary", "{dir}/f.cm/x.cm"]),
    ("unknown-command", {}, ["frobnicate"]),
    ("unknown-option", {}, ["compare", "mobilenet_v1", "--bogus"]),
    ("bad-format", {}, ["compare", "mobilenet_v1", "--format", "xml"]),
    ("missing-spec", {}, ["summary"]),

    # malformed text
    file_case("unterminated-string", 'conv max("abc,8)'),
    ("mixed-tabs", {"f.cm": wrap("residual:\n\tconv 8\n    relu")}, ["compare", "{dir}/f.cm"]),
    ("nul-bytes", {"f.cm": wrap("conv 8\x00")}, ["compare", "{dir}/f.cm"]),
    ("non-utf8", {"f.cm": b"model t\ninput 3 32 32\nconv \xff\xfe 8\ngap\nfc 10\n"},
     ["compare", "{dir}/f.cm"]),
    ("bom-then-nonsense", {"f.cm": "\ufeff" + wrap("conv -8")}, ["compare", "{dir}/f.cm"]),
    ("crlf-then-nonsense", {"f.cm": wrap("conv -8").replace("\n", "\r\n")},
     ["compare", "{dir}/f.cm"]),
    ("empty-file", {"f.cm": ""}, ["compare", "{dir}/f.cm"]),
    ("only-comments", {"f.cm": "# nothing\n# here\n"}, ["compare", "{dir}/f.cm"]),
    ("directory", {"d.cm/keep": ""}, ["compare", "{dir}/d.cm"]),
    ("missing-file", {}, ["compare", "{dir}/nothing.cm"]),
    ("unclosed-docstring", {"f.cm": '"""never closed\n' + wrap("relu")},
     ["compare", "{dir}/f.cm"]),
    ("unbalanced-bracket", {"f.cm": wrap("conv max(8,8")}, ["compare", "{dir}/f.cm"]),
]
