"""Hostile cases for the files costmodel writes and the SPEC files besides ONNX: output
targets that are folders, pipes, devices, in missing folders or under files (``out-``); .cm
files and file names that try to reach the terminal, fractional channel counts written as
numbers, pipes and folders given as SPECs (``spec-``); sweep grids past their bound and bad
plot requests (``sweep-``); ``file.py:factory`` files that are pipes, folders, huge, binary
or broken (``py-``).

An old file that a failed command must leave whole is listed in ``protect``. A full disk
cannot be made without mounting one: tests/test_outputs.py makes ``os.write``/``os.fsync``
fail with ENOSPC instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import Case

OLD = "the old contents, which a failed write must keep\n"
TINY = "model tiny\ninput 3 32 32\nconv 8 k=3 bn=1 act=relu\ngap\nfc 10\n"
#: a file without a ``model`` line: its name is the model's name
NAMELESS = "input 3 32 32\nconv 8 k=3\ngap\nfc 10\n"
KNOBBED = ("model knobbed\nknob alpha 1 positive\nknob mode a choice a|b\n"
           "input 3 32 32\nconv 16*alpha k=3\ngap\nfc 10\n")
SWEEP = ("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-q")
#: the first line of a Python file that must never run (read and refused before it would)
MARKS = "open('{marker}', 'w').write('ran')\n"


def _fifo(name: str):
    def make(folder: Path) -> None:
        os.mkfifo(folder / name)
    return make


def _symlink(name: str, target: str):
    def make(folder: Path) -> None:
        os.symlink(target, folder / name)
    return make


def _sparse(name: str, size: int):
    def make(folder: Path) -> None:
        with open(folder / name, "wb") as stream:
            stream.truncate(size)
    return make


def _net(body: str, head: str = "model t\nknob alpha 0.3 positive\ninput 3 32 32\n") -> str:
    return head + body + "\n"


CASES: list[Case] = []

# --- output targets: what each writing command refuses before its work -------------------------

#: (id, command line before the target, option, target suffix, missing folder created?)
WRITERS = [
    ("sweep-csv", SWEEP, "-o", ".csv", False),
    ("sweep-json", SWEEP, "-o", ".json", False),
    ("sweep-table", SWEEP, "-o", ".txt", False),
    ("sweep-parquet", SWEEP, "-o", ".parquet", False),
    ("sweep-plot", SWEEP, "--plot", ".png", False),
    ("sweep-plot-svg", SWEEP, "--plot", ".svg", False),
    ("import", ("import", "mobilenet_v1"), "-o", ".cm", False),
    ("breakdown", ("breakdown", "mobilenet_v1"), "--out", ".png", True),
    ("breakdown-svg", ("breakdown", "mobilenet_v1"), "--out", ".svg", True),
    ("collapse", ("collapse", "--m", "2,3", "--n", "50"), "--out", ".png", True),
    ("collapse-svg", ("collapse", "--m", "2,3", "--n", "50"), "--out", ".svg", True),
]

for wid, head, option, suffix, creates in WRITERS:
    target = f"t{suffix}"
    CASES += [
        Case(f"out-{wid}-directory", (*head, option, "{dir}/" + target),
             files={f"{target}/keep": OLD}, protect=(f"{target}/keep",),
             says=("is a directory",)),
        Case(f"out-{wid}-fifo", (*head, option, "{dir}/" + target), setup=_fifo(target),
             says=("not a regular file",)),
        Case(f"out-{wid}-under-a-file", (*head, option, "{dir}/plain.txt/" + target),
             files={"plain.txt": OLD}, protect=("plain.txt",)),
        Case(f"out-{wid}-proc", (*head, option, "/proc/costmodel-h3" + suffix)),
        Case(f"out-{wid}-dev-full", (*head, option, "/dev/full"),
             says=("not a regular file",)) if suffix in (".csv", ".cm") else
        Case(f"out-{wid}-symlink-to-directory", (*head, option, "{dir}/link" + suffix),
             files={"real/keep": OLD}, setup=_symlink("link" + suffix, "real"),
             protect=("real/keep",), says=("is a directory",)),
    ]
    if creates:  # the figure commands make the folders they write into (README)
        CASES.append(Case(f"out-{wid}-missing-folder-created",
                          (*head, option, "{dir}/new/deeper/" + target), expect="ok"))
    else:
        CASES.append(Case(f"out-{wid}-missing-folder", (*head, option,
                                                        "{dir}/missing/" + target),
                          says=("does not exist",)))

CASES += [
    # an old output is kept whole when the command fails, whatever the failure
    Case("out-sweep-old-csv-bad-knob", ("sweep", "mobilenet_v1", "--alpha", "0.5,-1", "-o",
                                        "{dir}/old.csv"), files={"old.csv": OLD},
         protect=("old.csv",)),
    Case("out-sweep-old-csv-bad-spec", ("sweep", "{dir}/bad.cm", "--alpha", "0.5", "-o",
                                        "{dir}/old.csv"),
         files={"old.csv": OLD, "bad.cm": _net("conv 2.5 k=3")}, protect=("old.csv",)),
    Case("out-sweep-old-plot-bad-x", (*SWEEP, "--plot", "{dir}/old.png", "--x", "nothing"),
         files={"old.png": OLD}, protect=("old.png",), says=("not a swept knob",)),
    Case("out-sweep-old-plot-hue-is-x", ("sweep", "mobilenet_v1", "--alpha", "0.5,1",
                                         "--resolution", "128,224", "--plot", "{dir}/old.png",
                                         "--x", "alpha", "--hue", "alpha"),
         files={"old.png": OLD}, protect=("old.png",)),
    Case("out-sweep-old-json-grid-too-big", ("sweep", "mobilenet_v2", "--alpha",
                                             "0.35:1.349:0.001", "--resolution", "96:2095:1",
                                             "-o", "{dir}/old.json"),
         files={"old.json": OLD}, protect=("old.json",), says=("MAX_GRID_POINTS",)),
    Case("out-sweep-parquet-to-stdout", ("sweep", "mobilenet_v1", "--alpha", "0.5",
                                         "-f", "parquet"), says=("--output",)),
    Case("out-import-old-bad-spec", ("import", "{dir}/bad.cm", "-o", "{dir}/old.cm"),
         files={"old.cm": OLD, "bad.cm": "model t\ninput 3 32 32\nconv -8 k=3\n"},
         protect=("old.cm",)),
    Case("out-import-old-missing-spec", ("import", "{dir}/none.cm", "-o", "{dir}/old.cm"),
         files={"old.cm": OLD}, protect=("old.cm",), says=("no such file",)),
    Case("out-breakdown-old-bad-spec", ("breakdown", "nosuchmodel", "--out", "{dir}/old.png"),
         files={"old.png": OLD}, protect=("old.png",), says=("unknown model",)),
    Case("out-breakdown-bad-suffix", ("breakdown", "mobilenet_v1", "--out", "{dir}/old.jpg"),
         files={"old.jpg": OLD}, protect=("old.jpg",), says=(".png or .svg",)),
    Case("out-collapse-bad-suffix", ("collapse", "--m", "2", "--n", "20", "--out",
                                     "{dir}/c.pdf"), says=(".png or .svg",)),
    Case("out-sweep-plot-bad-suffix", (*SWEEP, "--plot", "{dir}/p.gif"),
         says=(".png, .svg or .pdf",)),
    Case("out-sweep-plot-no-suffix", (*SWEEP, "--plot", "{dir}/plot"),
         says=(".png, .svg or .pdf",)),
    Case("out-sweep-output-and-plot-same-dir", (*SWEEP, "-o", "{dir}/d", "--plot",
                                                "{dir}/d/p.png"), files={"d/keep": OLD},
         protect=("d/keep",), says=("is a directory",)),
    Case("out-sweep-dangling-symlink", (*SWEEP, "-o", "{dir}/dangling.csv"),
         setup=_symlink("dangling.csv", "nowhere/x.csv"), expect="ok"),  # the link replaced
    # writes that succeed: over an old file, and names a terminal would obey
    Case("out-sweep-replaces-old-csv", (*SWEEP, "-o", "{dir}/old.csv"), files={"old.csv": OLD},
         expect="ok"),
    Case("out-sweep-escape-in-name", ("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-o",
                                      "{dir}/r\x1b[31mred.csv"), expect="ok"),
    Case("out-sweep-newline-in-plot-name", ("sweep", "mobilenet_v1", "--alpha", "0.5,1",
                                            "--plot", "{dir}/two\nlines.png"), expect="ok"),
    Case("out-import-bidi-in-name", ("import", "mobilenet_v1", "-o", "{dir}/x\u202ecm.txt"),
         expect="ok"),
    Case("out-breakdown-escape-in-name", ("breakdown", "mobilenet_v1", "--out",
                                          "{dir}/b\x1b]0;title\x07.png"), expect="ok"),
    Case("out-sweep-table-to-file", ("sweep", "mobilenet_v1", "--alpha", "0.25:1:0.25", "-o",
                                     "{dir}/t.txt"), expect="ok"),
    # report folders
    Case("out-report-fifo", ("report", "--only", "mobilenet_v1_table6", "-q", "--out",
                             "{dir}/r"), setup=_fifo("r"), says=("not a folder",)),
    Case("out-report-file", ("report", "--only", "mobilenet_v1_table6", "-q", "--out",
                             "{dir}/r"), files={"r": OLD}, protect=("r",), says=("a file",)),
    Case("out-report-under-a-file", ("report", "--only", "mobilenet_v1_table6", "-q", "--out",
                                     "{dir}/f/r"), files={"f": OLD}, protect=("f",)),
    Case("out-report-table-is-a-directory", ("report", "--only", "mobilenet_v1_table6", "-q",
                                             "--out", "{dir}/r"),
         files={"r/tables/mobilenet_v1_table6.md/keep": OLD},
         protect=("r/tables/mobilenet_v1_table6.md/keep",), says=("is a directory",)),
    Case("out-report-unknown-only", ("report", "--only", "nothing\x1b[2J", "-q", "--out",
                                     "{dir}/r"), says=("unknown",)),
    Case("out-report-proc", ("report", "--only", "mobilenet_v1_table6", "-q", "--out",
                             "/proc/costmodel-h3-report")),
]

# --- SPEC files: names that reach the terminal, control characters, literal fractions ----------

NAMES = {
    "esc": "na\x1b[2Jme", "osc": "t\x1b]0;pwned\x07", "newline": "two\nrows",
    "cr": "over\rwrite", "bidi": "abc\u202etxt", "csi8": "c\x9b31m", "del": "d\x7fel",
    "tab": "tab\tbed", "bell": "b\x07ell", "zero-width": "z\u200bw",
}
for key, name in NAMES.items():
    CASES.append(Case(f"spec-file-name-{key}", ("compare", "{dir}/" + name + ".cm",
                                                "mobilenet_v1"),
                      files={name + ".cm": NAMELESS}, expect="ok"))
CASES += [
    Case("spec-file-name-json", ("compare", "{dir}/na\x1bme.cm", "-f", "json"),
         files={"na\x1bme.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-csv", ("compare", "{dir}/na\x1bme.cm", "-f", "csv"),
         files={"na\x1bme.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-summary", ("summary", "{dir}/x\ny\x1b[1m.cm"),
         files={"x\ny\x1b[1m.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-summary-json", ("summary", "{dir}/x\x1b[1m.cm", "-f", "json"),
         files={"x\x1b[1m.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-markdown", ("compare", "{dir}/p|ipe\x1b.cm", "-f", "markdown"),
         files={"p|ipe\x1b.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-sweep", ("sweep", "{dir}/s\x1b[5m.cm", "--resolution", "32,64"),
         files={"s\x1b[5m.cm": NAMELESS.replace("32 32", "resolution resolution")
                .replace("input", "knob resolution 32 int\ninput")}, expect="ok"),
    Case("spec-file-name-import", ("import", "{dir}/i\x1b[5m.cm"),
         files={"i\x1b[5m.cm": NAMELESS}, expect="ok"),
    Case("spec-file-name-error", ("compare", "{dir}/e\x1b[31m.cm"),
         files={"e\x1b[31m.cm": "input 3 32 32\nconv -1 k=3\n"}),
    Case("spec-file-name-long", ("compare", "{dir}/" + "n" * 250 + ".cm"),
         files={"n" * 250 + ".cm": NAMELESS}, expect="ok"),
    Case("spec-path-too-long", ("compare", "{dir}/" + "a" * 5000 + ".cm"),
         says=("too long",)),
    Case("spec-path-too-long-no-suffix", ("compare", "{dir}/" + "b/" * 3000)),
]

CONTROL = {"esc": "\x1b[2J", "bel": "\x07", "formfeed": "\x0c", "vtab": "\x0b",
           "del": "\x7f", "c1-csi": "\x9b", "bidi": "\u202e", "line-sep": "\u2028",
           "backspace": "\x08", "isolate": "\u2066"}
for key, char in CONTROL.items():
    CASES.append(Case(f"spec-control-in-note-{key}", ("summary", "{dir}/f.cm"),
                      files={"f.cm": f"model t\nnote see{char}here\ninput 3 8 8\nrelu\n"},
                      says=("control character",)))
CASES += [
    Case("spec-control-in-paper", ("compare", "{dir}/f.cm"),
         files={"f.cm": "model t\npaper P\x1b[31mRED\ninput 3 8 8\nrelu\n"},
         says=("control character",)),
    Case("spec-control-in-choice", ("compare", "{dir}/f.cm:mode=b\x1b[2J"),
         files={"f.cm": "model t\nknob mode a choice a|b\x1b[2J\ninput 3 8 8\nrelu\n"},
         says=("control character",)),
    Case("spec-control-in-docstring", ("compare", "{dir}/f.cm"),
         files={"f.cm": '"""Doc \x1b]0;x\x07"""\nmodel t\ninput 3 8 8\nrelu\n'},
         says=("control character",)),
    Case("spec-control-in-comment", ("compare", "{dir}/f.cm"),
         files={"f.cm": "model t  # \x1b[8m hidden\ninput 3 8 8\nrelu\n"},
         says=("control character",)),
    Case("spec-control-in-knob-help", ("sweep", "{dir}/f.cm", "--alpha", "0.5,1", "--plot",
                                       "{dir}/p.png"),
         files={"f.cm": "model t\nknob alpha 1 positive  # width \x1b[2J\ninput 3 8 8\n"
                        "conv 8*alpha k=1\n"}, says=("control character",)),
    Case("spec-control-in-string", ("compare", "{dir}/f.cm"),
         files={"f.cm": _net('if "a\x1b" == "a":\n    relu')}, says=("control character",)),
    Case("spec-control-in-block-file", ("compare", "{dir}/f.cm"),
         files={"f.cm": "model t\nblock b(c):\n    conv c k=1 # \x1b[2J\ninput 3 8 8\nb 4\n"},
         says=("control character",)),
    Case("spec-crlf-still-reads", ("compare", "{dir}/f.cm"),
         files={"f.cm": TINY.replace("\n", "\r\n")}, expect="ok"),
    Case("spec-tab-indent-still-reads", ("compare", "{dir}/f.cm"),
         files={"f.cm": "model t\ninput 3 8 8\nresidual:\n\trelu\n"}, expect="ok"),
    Case("spec-knob-value-escape", ("compare", "{dir}/f.cm:mode=\x1b[2J"),
         files={"f.cm": KNOBBED}, says=("mode",)),
    Case("spec-knob-value-newline", ("compare", "{dir}/f.cm:mode=a\nb"), files={"f.cm": KNOBBED}),
    Case("spec-knob-name-escape", ("compare", "{dir}/f.cm:\x1b[2J=1"), files={"f.cm": KNOBBED}),
    Case("spec-zoo-setting-escape", ("compare", "mobilenet_v1:rounding=\x1b[31m")),
    Case("spec-zoo-name-escape", ("compare", "mobile\x1b[2Jnet")),
]

FRACTIONS = {
    "conv": "conv 2.5 k=3", "conv-keyword": "conv c=5/2 k=3", "fc": "conv 8 k=3\ngap\nfc 0.5",
    "pw": "pw 1.5", "split": "conv 8 k=1\nsplit 2.5", "parenthesised": "conv (10/4) k=3",
    "scientific": "conv 25e-1 k=3", "defaults": "defaults conv k=3\nconv 7/3",
    "in-residual": "residual:\n    conv 3.5 k=1", "in-group": "group g:\n    conv 0.75 k=1",
    "in-if": "if alpha > 0:\n    conv 1.25 k=1", "in-block": "block b():\n    conv 4.5 k=1\nb",
    "repeated": "conv 6.5 k=1 n=3", "tiny": "conv 1/1000000 k=1",
}
for key, body in FRACTIONS.items():
    text = _net(body) if not body.startswith("block") else \
        "model t\nknob alpha 0.3 positive\n" + body.split("\nb")[0] + "\ninput 3 32 32\nb\n"
    CASES.append(Case(f"spec-fractional-literal-{key}", ("compare", "{dir}/f.cm"),
                      files={"f.cm": text}, says=("fractional channel count",)))
CASES += [
    Case("spec-fractional-from-knob", ("compare", "{dir}/f.cm:alpha=0.3"),
         files={"f.cm": _net("conv 9*alpha k=3\ngap\nfc 10")}, expect="ok"),
    Case("spec-fractional-zoo-rounding-none", ("compare", "mobilenet_v1:alpha=0.3,"
                                               "rounding=none", "-f", "json"), expect="ok"),
    Case("spec-fractional-sweep-rounding-none", ("sweep", "mobilenet_v2", "--alpha",
                                                 "0.3,0.35", "--knob", "rounding=none"),
         expect="ok"),
    Case("spec-whole-literal-fraction", ("compare", "{dir}/f.cm"),
         files={"f.cm": _net("conv 16/2 k=3")}, expect="ok"),
    Case("spec-negative-literal", ("compare", "{dir}/f.cm"), files={"f.cm": _net("conv -2 k=3")}),
]

CASES += [
    Case("spec-cm-fifo", ("compare", "{dir}/f.cm"), setup=_fifo("f.cm"),
         says=("not a regular file",)),
    Case("spec-cm-fifo-no-suffix", ("compare", "./f"), setup=_fifo("f"),
         says=("not a regular file",)),
    Case("spec-cm-directory", ("compare", "{dir}/d.cm"), files={"d.cm/keep": ""},
         says=("is a directory",)),
    Case("spec-cm-directory-with-settings", ("compare", "{dir}/d.cm:alpha=1"),
         files={"d.cm/keep": ""}, says=("is a directory",)),
    Case("spec-cm-symlink-dev-zero", ("compare", "{dir}/z.cm"),
         setup=_symlink("z.cm", "/dev/zero"), says=("not a regular file",)),
    Case("spec-cm-symlink-fifo", ("compare", "{dir}/l.cm"),
         setup=lambda d: (os.mkfifo(d / "p"), os.symlink("p", d / "l.cm")),
         says=("not a regular file",)),
    Case("spec-cm-huge", ("compare", "{dir}/h.cm"), setup=_sparse("h.cm", 50 * 2 ** 20),
         says=("MAX_FILE_BYTES",)),
    Case("spec-cm-under-a-file", ("compare", "{dir}/f.txt/x.cm"), files={"f.txt": OLD}),
    Case("spec-cm-missing", ("compare", "{dir}/missing.cm"), says=("no such file",)),
    Case("spec-name-is-a-fifo", ("compare", "fifo"), setup=_fifo("fifo"),
         says=("a file of that name exists",)),
    Case("spec-name-is-a-directory", ("compare", "vggnet"), files={"vggnet/keep": ""},
         says=("a file of that name exists",)),
    Case("spec-cm-dev-stdin", ("compare", "/dev/stdin"), says=("not a regular file",)),
    Case("spec-cm-sweep-fifo", ("sweep", "{dir}/f.cm", "--alpha", "0.5"), setup=_fifo("f.cm"),
         says=("not a regular file",)),
    Case("spec-cm-import-directory", ("import", "{dir}/d.cm"), files={"d.cm/keep": ""},
         says=("is a directory",)),
    Case("spec-cm-summary-fifo", ("summary", "{dir}/f.cm"), setup=_fifo("f.cm"),
         says=("not a regular file",)),
    Case("spec-cm-derive-fifo", ("derive", "{dir}/f.cm"), setup=_fifo("f.cm"),
         says=("not a regular file",)),
]

# --- sweeps: the grid bound and the LIST bound, refused before the work -------------------------

CASES += [
    Case("sweep-grid-just-past-limit", ("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.001",
                                        "--resolution", "96:1096:1"),
         says=("1,001,000 points", "MAX_GRID_POINTS")),
    Case("sweep-grid-ten-million", ("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.001",
                                    "--resolution", "96:10095:1", "-o", "{dir}/old.csv"),
         files={"old.csv": OLD}, protect=("old.csv",), says=("MAX_GRID_POINTS",)),
    Case("sweep-grid-product-of-many", ("sweep", "mobilenet_v2", "--alpha", "0.01:100:0.0001",
                                        "--resolution", "1:1000000:1", "--t", "1:1000000:1",
                                        "--knob", "classes=1:1000000:1"),
         says=("MAX_GRID_POINTS",)),
    Case("sweep-list-past-limit", ("sweep", "mobilenet_v2", "--resolution", "1:1000001:1"),
         says=("MAX_LIST_VALUES",)),
    Case("sweep-list-huge-range", ("sweep", "mobilenet_v2", "--resolution",
                                   "1:1000000000000000000000:1")),
    Case("sweep-list-tiny-step", ("sweep", "mobilenet_v2", "--alpha", "0:1:1e-30")),
    Case("sweep-at-limit-csv", ("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.001",
                                "--resolution", "96:1095:1", "--check", "0", "-q",
                                "-o", "{dir}/g.csv"), expect="ok"),
    Case("sweep-at-limit-table", ("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.001",
                                  "--resolution", "96:1095:1", "--check", "0"), expect="ok"),
    Case("sweep-idealized-json", ("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.002",
                                  "--resolution", "96:1095:2", "--knob", "rounding=none",
                                  "--check", "0", "-q", "-o", "{dir}/g.json"), expect="ok"),
    Case("sweep-check-past-limit", ("sweep", "mobilenet_v1", "--alpha", "0.5,1", "--check",
                                    "100000"), says=("MAX_SWEEP_CHECKS",)),
    Case("sweep-knob-twice", ("sweep", "mobilenet_v1", "--alpha", "0.5", "--knob",
                              "alpha=1"), says=("twice",)),
    Case("sweep-knob-escape-value", ("sweep", "mobilenet_v1", "--knob",
                                     "rounding=none,\x1b[2J")),
    Case("sweep-knob-no-equals", ("sweep", "mobilenet_v1", "--knob", "alpha\x1b[2J"),
         says=("NAME=LIST",)),
    Case("sweep-plot-string-x", ("sweep", "mobilenet_v1", "--knob", "rounding=none,reference",
                                 "--plot", "{dir}/p.png", "--x", "rounding")),
    Case("sweep-plot-no-numeric-axis", ("sweep", "mobilenet_v1", "--alpha", "0.5",
                                        "--plot", "{dir}/p.png")),
    Case("sweep-plot-pdf", ("sweep", "mobilenet_v1", "--alpha", "0.25:1:0.25", "-q",
                            "--plot", "{dir}/p.pdf"), expect="ok"),
    Case("sweep-py-spec-refused-unrun", ("sweep", "{dir}/m.py:build", "--alpha", "0.5"),
         files={"m.py": MARKS}, says=("layer-spec",)),
]

# --- file.py:factory SPECs: read as any input first, then run -----------------------------------

CASES += [
    Case("py-fifo", ("compare", "{dir}/m.py:build"), setup=_fifo("m.py"),
         says=("not a regular file",)),
    Case("py-directory", ("compare", "{dir}/m.py:build"), files={"m.py/keep": ""},
         says=("is a directory",)),
    Case("py-missing", ("compare", "{dir}/m.py:build"), says=("no such file",)),
    Case("py-huge", ("compare", "{dir}/m.py:build"), setup=_sparse("m.py", 64 * 2 ** 20),
         says=("MAX_PYTHON_FILE_BYTES",)),
    Case("py-dev-zero", ("compare", "{dir}/m.py:build"), setup=_symlink("m.py", "/dev/zero"),
         says=("not a regular file",)),
    Case("py-not-utf8", ("compare", "{dir}/m.py:build"),
         files={"m.py": MARKS.encode() + b"# caf\xe9\n"}, says=("not UTF-8",)),
    Case("py-latin1-cookie", ("compare", "{dir}/m.py:build"),
         files={"m.py": b"# -*- coding: latin-1 -*-\n" + MARKS.encode() + b"x = '\xe9'\n"},
         says=("not UTF-8",)),
    Case("py-nul-byte", ("compare", "{dir}/m.py:build"),
         files={"m.py": MARKS + "x = 1\x00\n"}, says=("not valid Python",)),
    Case("py-syntax-error", ("compare", "{dir}/m.py:build"),
         files={"m.py": MARKS + "def build(:\n"}, says=("not valid Python",)),
    Case("py-syntax-error-escape", ("compare", "{dir}/m.py:build"),
         files={"m.py": MARKS + "x = '\x1b[2J\n"}, says=("not valid Python",)),
    Case("py-binary", ("compare", "{dir}/m.py:build"),
         files={"m.py": bytes(range(256)) * 4}),
    Case("py-empty-no-factory", ("compare", "{dir}/m.py:build"), files={"m.py": ""},
         says=("no function",)),
    Case("py-sys-exit", ("compare", "{dir}/m.py:build"),
         files={"m.py": "import sys\nsys.exit(7)\n"}, says=("SystemExit",)),
    Case("py-raises-escape", ("compare", "{dir}/m.py:build"),
         files={"m.py": "raise RuntimeError('boom\\x1b[2J\\nsecond line')\n"},
         says=("RuntimeError",)),
    Case("py-raises-huge-message", ("compare", "{dir}/m.py:build"),
         files={"m.py": "raise ValueError('x' * 5_000_000)\n"}, says=("ValueError",)),
    Case("py-bad-factory-name", ("compare", "{dir}/m.py:no-t valid"),
         files={"m.py": "def build():\n    pass\n"}, says=("name the function",)),
    Case("py-factory-not-a-module", ("compare", "{dir}/m.py:build"),
         files={"m.py": "def build():\n    return 42\n"}, says=("not an nn.Module",)),
    Case("py-name-escape-missing", ("compare", "{dir}/e\x1b[31mvil.py:build"),
         says=("no such file",)),
    Case("py-name-escape-syntax", ("compare", "{dir}/e\x1b[31mvil.py:build"),
         files={"e\x1b[31mvil.py": "def build(:\n"}, says=("not valid Python",)),
    Case("py-under-a-file", ("compare", "{dir}/f.txt/m.py:build"), files={"f.txt": OLD}),
    Case("py-path-too-long", ("compare", "{dir}/" + "p" * 5000 + ".py:build"),
         says=("too long",)),
]
