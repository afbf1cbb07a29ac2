"""Hostile cases for hardware profiles (``latency --hw FILE.toml``, ``hardware``), ``latency``
options (``--dtype``, ``--batch``), ``memory --order FILE`` and ``calibrate`` options: what an
attacker would send and what a confused new user would type. Ids: ``hw-``, ``lat-``,
``order-``, ``cal-``.

Every calibrate case that measures uses ``--library numpy`` and the smallest sizes, so the
corpus stays fast; the others are refused before any measurement.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import Case

#: A small network: conv1, conv1.bn, conv1.relu, gap1, fc1 (builds in a fraction of a second).
NET = "model t\ninput 3 32 32\nconv 8 k=3 s=2 bn=1 act=relu\ngap\nfc 10\n"
LAYERS = ("conv1", "conv1.bn", "conv1.relu", "gap1", "fc1")
ORDER = "\n".join(LAYERS) + "\n"

#: A valid profile, as (key, TOML value) lines; cases replace, drop or add lines.
BASE = (("name", '"toy"'), ("description", '"a toy device"'), ("dtype", '"fp32"'),
        ("peak_macs_per_second", "1e9"), ("bandwidth_bytes_per_second", "2e9"),
        ("overhead_seconds_per_layer", "1e-6"), ("source", '"made up for the corpus"'))


def profile(drop: tuple[str, ...] = (), tail: str = "", **values: str) -> str:
    """The base profile with ``values`` replacing keys' TOML values, ``drop`` removed and
    ``tail`` appended (tables must come last in TOML)."""
    lines = [f"{key} = {values.get(key, value)}" for key, value in BASE if key not in drop]
    lines += [f"{key} = {value}" for key, value in values.items() if key not in dict(BASE)]
    return "\n".join(lines) + "\n" + tail


def hw(case_id: str, content: str | bytes | None, says: tuple[str, ...] = (),
       expect: str = "error", args: tuple[str, ...] = (), hw_arg: str = "p.toml",
       setup=None, secret: bool = False) -> Case:
    files: dict[str, str | bytes] = {"net.cm": NET}
    if content is not None:
        files["p.toml"] = content
    return Case(f"hw-{case_id}", ("latency", "net.cm", "--hw", hw_arg, *args), files,
                expect=expect, says=says, setup=setup, secret=secret)


def _fifo(name: str):
    return lambda folder: os.mkfifo(folder / name)


def _sparse(name: str, size: int):
    def make(folder: Path) -> None:
        with open(folder / name, "wb") as f:
            f.truncate(size)
    return make


def _symlink(name: str, target: str):
    return lambda folder: os.symlink(target, folder / name)


def _mkdir(name: str):
    return lambda folder: (folder / name).mkdir()


ESC = "\\u001b[31m"  # a TOML escape: the parsed string holds a real ESC
NUMBER_KEYS = ("peak_macs_per_second", "bandwidth_bytes_per_second",
               "overhead_seconds_per_layer")
SHORT = {"peak_macs_per_second": "peak", "bandwidth_bytes_per_second": "bw",
         "overhead_seconds_per_layer": "overhead"}

HW: list[Case] = [
    # files that are fine, in the ways a real one may be written
    hw("valid", profile(), expect="ok"),
    hw("valid-json", profile(), expect="ok", args=("-f", "json")),
    hw("valid-csv", profile(), expect="ok", args=("-f", "csv")),
    hw("valid-markdown", profile(), expect="ok", args=("-f", "markdown")),
    hw("bom", "\ufeff" + profile(), expect="ok"),
    hw("crlf", profile().replace("\n", "\r\n"), expect="ok"),
    hw("comments", "# a device\n" + profile().replace("\n", "  # note\n"), expect="ok"),
    hw("integers", profile(peak_macs_per_second="1_000_000_000",
                           bandwidth_bytes_per_second="2000000000",
                           overhead_seconds_per_layer="0"), expect="ok"),
    hw("minimal", profile(drop=("description", "dtype", "overhead_seconds_per_layer",
                                "source")), expect="ok"),
    hw("tiny-overhead", profile(overhead_seconds_per_layer="1e-400"), expect="ok"),
    hw("edge-max", profile(peak_macs_per_second="1e18", bandwidth_bytes_per_second="1e16",
                           overhead_seconds_per_layer="1"), expect="ok", args=("-f", "json")),
    hw("edge-min", profile(peak_macs_per_second="1000", bandwidth_bytes_per_second="1000"),
       expect="ok", args=("-f", "json")),
    hw("literal-strings", profile(name="'toy'", source="'''multi\nline'''"), expect="ok"),
    # escapes in strings reach the terminal only escaped
    hw("name-esc", profile(name=f'"{ESC}red{ESC}"'), expect="ok"),
    hw("name-esc-json", profile(name=f'"{ESC}red\\u0007"'), expect="ok", args=("-f", "json")),
    hw("name-esc-csv", profile(name='"a\\nb,c"'), expect="ok", args=("-f", "csv")),
    hw("name-newline", profile(name='"two\\nlines\\r"'), expect="ok"),
    hw("name-bidi", profile(name='"\\u202eevil\\u202c"'), expect="ok"),
    hw("name-c1-csi", profile(name='"\\u009b2J"'), expect="ok", args=("-f", "markdown")),
    hw("source-esc", profile(source=f'"{ESC}\\u001b]0;title\\u0007"'), expect="ok"),
    hw("description-esc", profile(description='"\\u001b[2J\\u001b[H"'), expect="ok",
       args=("-f", "latex")),
    hw("name-esc-in-error", profile(name=f'"{ESC}x"'), says=("int8", "fp32"),
       args=("--dtype", "int8")),
    # bytes that are not a TOML text
    hw("latin1", profile(name='"caf\xe9"').encode("latin-1"), says=("UTF-8",)),
    hw("utf16", profile().encode("utf-16"), says=("UTF-8",)),
    hw("binary", bytes(range(256)) * 4, says=("UTF-8",)),
    hw("nul", profile().replace("toy", "t\x00y"), says=("valid TOML",)),
    hw("not-toml", "peak_macs_per_second: 1e9\nname: toy\n", says=("valid TOML",)),
    hw("python", "import os\nos.system('touch {marker}')\n", says=("valid TOML",)),
    hw("json", '{"name": "toy", "peak_macs_per_second": 1e9}', says=("valid TOML",)),
    hw("empty", "", says=("missing", "name")),
    hw("only-bom", "\ufeff", says=("missing",)),
    hw("only-comments", "# nothing here\n" * 50, says=("missing",)),
    hw("duplicate-key", profile() + "name = \"again\"\n", says=("valid TOML",)),
    # sizes and nesting
    hw("huge-sparse", None, says=("MAX_PROFILE_BYTES",), setup=_sparse("p.toml", 2 * 10**9)),
    hw("just-over", profile() + "#" * 999 + "\n" + ("#" * 999 + "\n") * 100,
       says=("MAX_PROFILE_BYTES",)),
    hw("long-line", profile() + "# " + "x" * 5000 + "\n", says=("MAX_PROFILE_LINE_CHARS",)),
    hw("long-source", profile(source='"""' + ("s" * 900 + "\n") * 2 + '"""'),
       says=("source", "MAX_PROFILE_TEXT_CHARS")),
    hw("long-name", profile(name='"' + "n" * 101 + '"'), says=("MAX_PROFILE_NAME_CHARS",)),
    hw("dotted-deep", profile() + "a" + ".a" * 480 + " = 1\n", says=("unknown key",)),
    hw("dotted-deep-many", profile() + "".join(f"k{i}" + ".a" * 480 + " = 1\n"
                                               for i in range(90)), says=("unknown key",)),
    hw("table-header-deep", profile() + "[" + "t." * 490 + "t]\n", says=("unknown key",)),
    hw("arrays-nested-deep", profile() + "x = " + "\n".join(["[" * 400] * 60) + "\n",
       says=("valid TOML",)),
    hw("inline-tables-deep", profile() + "x = " + "{a=" * 200 + "1" + "}" * 200 + "\n"),
    hw("array-many-items", profile(drop=("peak_macs_per_second",)) +
       "peak_macs_per_second = [\n" + "1,\n" * 30000 + "]\n", says=("array",)),
    hw("many-keys", "".join(f"k{i} = {i}\n" for i in range(7000)), says=("unknown key",)),
    hw("huge-int", profile(peak_macs_per_second="9" * 500), says=("digits", "sane range")),
    hw("int-past-4300-digits", profile(peak_macs_per_second="9" * 4400),
       says=("MAX_PROFILE_LINE_CHARS",)),
    # missing and unknown keys
    *(hw(f"missing-{k}", profile(drop=(k,)), says=("missing", k))
      for k in ("name", "peak_macs_per_second", "bandwidth_bytes_per_second")),
    hw("typo-bandwidth", profile(drop=("bandwidth_bytes_per_second",)) +
       "bandwith_bytes_per_second = 2e9\n", says=("unknown key", "bandwith")),
    hw("typo-overhead", profile(drop=("overhead_seconds_per_layer",)) +
       "overhead_seconds_per_layr = 1e-3\n", says=("unknown key", "overhead_seconds_per_layr")),
    hw("unknown-table", profile(tail="[extra]\nx = 1\n"), says=("unknown key", "extra")),
    hw("unknown-key-esc", profile() + '"\\u001b[31mkey" = 1\n', says=("unknown key",)),
    hw("upper-case-key", profile() + "NAME = \"x\"\n", says=("unknown key", "NAME")),
    # strings where strings belong, of the right kind
    hw("name-number", profile(name="42"), says=("name", "number")),
    hw("name-bool", profile(name="true"), says=("name", "boolean")),
    hw("name-array", profile(name='["a", "b"]'), says=("name", "array")),
    hw("name-table", profile(name="{first = 'a'}"), says=("name", "table")),
    hw("name-empty", profile(name='""'), says=("name", "empty")),
    hw("name-blank", profile(name='"   "'), says=("name", "empty")),
    hw("source-date", profile(source="1979-05-27"), says=("source", "date")),
    hw("description-number", profile(description="3.5"), says=("description",)),
    hw("dtype-unknown", profile(dtype='"int4"'), says=("int4", "fp32")),
    hw("dtype-upper", profile(dtype='"FP32"'), says=("FP32",)),
    hw("dtype-number", profile(dtype="8"), says=("dtype",)),
    hw("dtype-empty", profile(dtype='""'), says=("dtype",)),
    hw("dtype-esc", profile(dtype=f'"{ESC}"'), says=("dtype",)),
    # figures: wrong types
    *(hw(f"{SHORT[k]}-{kind}", profile(**{k: value}), says=(k, word))
      for k in NUMBER_KEYS
      for kind, value, word in (("string", '"1e9"', "string"), ("bool", "true", "boolean"),
                                ("array", "[1e9]", "array"), ("table", "{ value = 1e9 }",
                                                              "table"),
                                ("date", "2024-01-01T00:00:00", "date"))),
    # figures: not finite (TOML reads 1e400 as inf)
    *(hw(f"{SHORT[k]}-{kind}", profile(**{k: value}), says=(k, "finite"))
      for k in NUMBER_KEYS
      for kind, value in (("nan", "nan"), ("plus-nan", "+nan"), ("minus-nan", "-nan"),
                          ("inf", "inf"), ("minus-inf", "-inf"), ("1e400", "1e400"),
                          ("minus-1e400", "-1e400"))),
    # figures: outside the sane range
    hw("peak-zero", profile(peak_macs_per_second="0"), says=("peak_macs_per_second",
                                                             "sane range")),
    hw("peak-negative", profile(peak_macs_per_second="-1e9"), says=("peak_macs_per_second",)),
    hw("peak-underflow", profile(peak_macs_per_second="1e-400"), says=("peak_macs_per_second",
                                                                       "MIN_PEAK")),
    hw("peak-tiny", profile(peak_macs_per_second="999"), says=("MIN_PEAK_MACS_PER_SECOND",)),
    hw("peak-absurd", profile(peak_macs_per_second="1e19"),
       says=("MAX_PEAK_MACS_PER_SECOND",)),
    hw("peak-1e300", profile(peak_macs_per_second="1e300"), says=("sane range",)),
    hw("bw-zero", profile(bandwidth_bytes_per_second="0"), says=("bandwidth_bytes_per_second",)),
    hw("bw-negative", profile(bandwidth_bytes_per_second="-5"),
       says=("bandwidth_bytes_per_second",)),
    hw("bw-absurd", profile(bandwidth_bytes_per_second="1e17"),
       says=("MAX_BANDWIDTH_BYTES_PER_SECOND",)),
    hw("bw-hex", profile(bandwidth_bytes_per_second="0x10"),
       says=("MIN_BANDWIDTH_BYTES_PER_SECOND",)),
    hw("overhead-negative", profile(overhead_seconds_per_layer="-1e-6"),
       says=("overhead_seconds_per_layer",)),
    hw("overhead-absurd", profile(overhead_seconds_per_layer="3600"),
       says=("MAX_OVERHEAD_SECONDS_PER_LAYER",)),
    # [peaks]: other dtypes' peaks
    hw("peaks-int8", profile(tail="[peaks]\nint8 = 4e9\n"), expect="ok",
       args=("--dtype", "int8", "-f", "json")),
    hw("peaks-fp16-csv", profile(tail="[peaks]\nfp16 = 2e9\nint8 = 4e9\n"), expect="ok",
       args=("--dtype", "fp16", "-f", "csv")),
    hw("peaks-own-dtype-equal", profile(tail="[peaks]\nfp32 = 1e9\n"), expect="ok"),
    hw("peaks-own-dtype-differs", profile(tail="[peaks]\nfp32 = 5e9\n"),
       says=("peaks.fp32", "keep one")),
    hw("peaks-unknown-dtype", profile(tail="[peaks]\nfp64 = 1e9\n"), says=("fp64",)),
    hw("peaks-nan", profile(tail="[peaks]\nint8 = nan\n"), says=("peaks.int8", "finite")),
    hw("peaks-1e400", profile(tail="[peaks]\nint8 = 1e400\n"), says=("peaks.int8",)),
    hw("peaks-zero", profile(tail="[peaks]\nint8 = 0\n"), says=("peaks.int8",)),
    hw("peaks-string", profile(tail="[peaks]\nint8 = \"fast\"\n"), says=("peaks.int8",
                                                                         "string")),
    hw("peaks-number", profile(peaks="3"), says=("peaks", "table")),
    hw("peaks-array", profile(peaks="[1, 2]"), says=("peaks", "array")),
    hw("peaks-nested", profile(tail="[peaks.int8]\nvalue = 4e9\n"), says=("peaks.int8",
                                                                          "table")),
    hw("peaks-esc-key", profile(tail='[peaks]\n"\\u001b[2J" = 1e9\n'), says=("dtype",)),
    # the --hw argument itself
    hw("missing-file", None, says=("no such file",), hw_arg="nope.toml"),
    hw("missing-in-folder", None, says=("no such file",), hw_arg="no/such/dir/p.toml"),
    hw("directory", None, says=("directory",), hw_arg="d.toml", setup=_mkdir("d.toml")),
    hw("dot", None, says=("directory",), hw_arg="."),
    hw("fifo", None, says=("regular file",), hw_arg="f.toml", setup=_fifo("f.toml")),
    hw("dev-zero", None, says=("regular file",), hw_arg="/dev/zero"),
    hw("dev-null", None, says=("regular file",), hw_arg="/dev/null"),
    hw("symlink-dev-zero", None, says=("regular file",), hw_arg="z.toml",
       setup=_symlink("z.toml", "/dev/zero")),
    hw("symlink-loop", None, hw_arg="loop.toml", setup=_symlink("loop.toml", "loop.toml")),
    hw("proc-self-mem", None, says=("cannot read",), hw_arg="/proc/self/mem"),
    hw("proc-file", None, says=("valid TOML",), hw_arg="/proc/self/status"),
    hw("unknown-name", None, says=("unknown hardware", "pixel1"), hw_arg="pixel9"),
    hw("empty-name", None, says=("unknown hardware",), hw_arg=""),
    hw("esc-name", None, says=("unknown hardware",), hw_arg="\x1b[31mred\x1b[0m"),
    hw("newline-name", None, says=("unknown hardware",), hw_arg="pix\nel1"),
    hw("long-name-arg", None, says=("unknown hardware",), hw_arg="p" * 100_000),
    hw("long-path", None, says=("too long",), hw_arg="d/" + "p" * 5000 + ".toml"),
    hw("secret-as-profile", None, says=("line 2", "MAX_PROFILE_LINE_CHARS"),
       hw_arg="secret.txt", secret=True),
    hw("case-of-builtin", None, says=("unknown hardware",), hw_arg="PIXEL1"),
    hw("builtin-with-suffix", None, says=("no such file",), hw_arg="pixel1.toml"),
]

LAT: list[Case] = [
    Case("lat-int8-on-fp32-profile", ("latency", "net.cm", "--hw", "pixel1", "--dtype", "int8"),
         {"net.cm": NET}, says=("int8", "fp32", "[peaks]")),
    Case("lat-fp16-on-gpu", ("latency", "net.cm", "--hw", "gtx1080ti", "--dtype", "fp16"),
         {"net.cm": NET}, says=("fp16", "fp32 only")),
    Case("lat-int8-json", ("latency", "net.cm", "--hw", "snapdragon810", "--dtype", "int8", "-f",
                           "json"), {"net.cm": NET}, says=("int8",)),
    Case("lat-int8-csv", ("latency", "net.cm", "--hw", "pixel1", "--dtype", "int8", "-f",
                          "csv"), {"net.cm": NET}, says=("int8",)),
    Case("lat-fp32-explicit", ("latency", "net.cm", "--hw", "pixel1", "--dtype", "fp32"),
         {"net.cm": NET}, expect="ok"),
    Case("lat-fp32-on-int8-profile", ("latency", "net.cm", "--hw", "p.toml", "--dtype", "fp32"),
         {"net.cm": NET, "p.toml": profile(dtype='"int8"')}, says=("fp32", "int8 only")),
    Case("lat-int8-profile-default", ("latency", "net.cm", "--hw", "p.toml", "-f", "json"),
         {"net.cm": NET, "p.toml": profile(dtype='"int8"')}, expect="ok"),
    Case("lat-dtype-fp64", ("latency", "net.cm", "--dtype", "fp64"), {"net.cm": NET},
         says=("fp64",)),
    Case("lat-dtype-esc", ("latency", "net.cm", "--dtype", "\x1b[2J"), {"net.cm": NET}),
    Case("lat-batch-zero", ("latency", "net.cm", "--batch", "0"), {"net.cm": NET},
         says=("--batch", "MAX_LATENCY_BATCH")),
    Case("lat-batch-negative", ("latency", "net.cm", "--batch", "-3"), {"net.cm": NET},
         says=("--batch",)),
    Case("lat-batch-huge", ("latency", "net.cm", "--batch", "1" + "0" * 400), {"net.cm": NET},
         says=("--batch",)),
    Case("lat-batch-over", ("latency", "net.cm", "--batch", "1000001"), {"net.cm": NET},
         says=("MAX_LATENCY_BATCH",)),
    Case("lat-batch-float", ("latency", "net.cm", "--batch", "1e3"), {"net.cm": NET}),
    Case("lat-batch-max-json", ("latency", "net.cm", "--batch", "1000000", "-f", "json"),
         {"net.cm": NET}, expect="ok"),
    Case("lat-hardware-json", ("hardware", "-f", "json"), expect="ok"),
    Case("lat-hardware-csv", ("hardware", "-f", "csv"), expect="ok"),
]


def order(case_id: str, content: str | bytes | None, says: tuple[str, ...] = (),
          expect: str = "error", arg: str = "order.txt", setup=None,
          args: tuple[str, ...] = ()) -> Case:
    files: dict[str, str | bytes] = {"net.cm": NET}
    if content is not None:
        files["order.txt"] = content
    return Case(f"order-{case_id}", ("memory", "net.cm", "--order", arg, *args), files,
                expect=expect, says=says, setup=setup)


ORDER_CASES: list[Case] = [
    order("valid", ORDER, expect="ok"),
    order("valid-json", ORDER, expect="ok", args=("-f", "json")),
    order("bom", "\ufeff" + ORDER, expect="ok"),
    order("crlf", ORDER.replace("\n", "\r\n"), expect="ok"),
    order("blank-lines-and-spaces", "\n\n  " + "  \n\n\t".join(LAYERS) + "\n\n", expect="ok"),
    order("no-final-newline", ORDER.rstrip("\n"), expect="ok"),
    order("fifo", None, says=("regular file",), arg="pipe", setup=_fifo("pipe")),
    order("dev-zero", None, says=("regular file",), arg="/dev/zero"),
    order("dev-urandom", None, says=("regular file",), arg="/dev/urandom"),
    order("dev-stdin", None, arg="/dev/stdin"),
    order("symlink-dev-zero", None, says=("regular file",), arg="z",
          setup=_symlink("z", "/dev/zero")),
    order("directory", None, says=("directory",), arg="d", setup=_mkdir("d")),
    order("missing", None, says=("no such file",), arg="nope.txt"),
    order("huge-sparse", None, says=("MAX_ORDER_BYTES",), setup=_sparse("order.txt", 5 * 10**9)),
    order("just-over", "x" * 4_000_001, says=("MAX_ORDER_BYTES",)),
    order("latin1", "conv1\ncaf\xe9\n".encode("latin-1"), says=("UTF-8", "0xe9")),
    order("utf16", ORDER.encode("utf-16"), says=("UTF-8",)),
    order("binary", bytes(range(256)), says=("UTF-8",)),
    order("empty", "", says=("no layer names",)),
    order("only-bom", "\ufeff", says=("no layer names",)),
    order("only-blank", "\n \n\t\n" * 1000, says=("no layer names",)),
    order("unknown-name", ORDER + "conv99\n", says=("line 6", "conv99", "not a layer")),
    order("unknown-first", "nope\n" + ORDER, says=("line 1", "nope")),
    order("duplicate", ORDER + "conv1\n", says=("line 6", "listed again", "line 1")),
    order("duplicate-adjacent", "conv1\nconv1\n" + "\n".join(LAYERS[1:]),
          says=("line 2", "listed again")),
    order("left-out", "\n".join(LAYERS[:-1]), says=("leaves out", "fc1")),
    order("only-one", "conv1\n", says=("leaves out 4",)),
    order("not-topological", "conv1.bn\nconv1\nconv1.relu\ngap1\nfc1\n",
          says=("conv1.bn", "before", "'conv1'", "line 2")),
    order("reversed", "\n".join(reversed(LAYERS)), says=("'fc1'", "before", "'gap1'")),
    order("last-first", "fc1\n" + "\n".join(LAYERS[:-1]), says=("fc1", "before")),
    order("esc-name", ORDER.replace("gap1", "gap1\x1b[2J"), says=("line 4", "not a layer")),
    order("osc-title", "\x1b]0;pwned\x07\n" + ORDER, says=("line 1",)),
    order("bidi-name", ORDER.replace("fc1", "\u202efc1"), says=("line 5",)),
    order("nul-in-name", ORDER.replace("fc1", "fc\x001"), says=("line 5",)),
    order("c1-csi", "\u009b31m\n" + ORDER, says=("line 1",)),
    order("backspaces", "conv1\x08\x08\x08\x08\x08fc1\n", says=("line 1",)),
    order("very-long-line", "a" * 3_000_000 + "\n" + ORDER, says=("line 1", "not a layer")),
    order("many-lines", "x\n" * 1_000_000, says=("line 1",)),
    order("names-on-one-line", " ".join(LAYERS) + "\n", says=("line 1",)),
    order("comma-separated", ",".join(LAYERS) + "\n", says=("line 1",)),
    order("python-code", "__import__('os').system('touch {marker}')\n", says=("not a layer",)),
    order("input-listed", "input\n" + ORDER, says=("'input'", "not a layer")),
    order("quoted-names", "\n".join(f'"{n}"' for n in LAYERS), says=("line 1",)),
    order("form-feed-split", "conv1\x0cconv1.bn\n" + "\n".join(LAYERS[2:]), expect="ok"),
    order("long-path", None, says=("too long",), arg="x" * 5000),
    order("case-differs", ORDER.replace("conv1\n", "CONV1\n", 1), says=("CONV1",)),
]

CAL_FAST = ("--library", "numpy", "--size", "64", "--copy-mib", "8", "--repeats", "1")


def cal(case_id: str, *args: str, says: tuple[str, ...] = (), expect: str = "error",
        files: dict | None = None, protect: tuple[str, ...] = (), setup=None) -> Case:
    return Case(f"cal-{case_id}", ("calibrate", *args), files or {}, expect=expect, says=says,
                protect=protect, setup=setup)


OLD = {"old.toml": "# an old profile that a failed calibrate must leave whole\nname = 'old'\n"}

CAL: list[Case] = [
    cal("valid", "-o", "out.toml", *CAL_FAST, expect="ok"),
    cal("size-30000", "--size", "30000", says=("--size", "64 to 4096", "MAX_CALIBRATE_SIZE")),
    cal("size-over", "--size", "4097", says=("--size", "MAX_CALIBRATE_SIZE")),
    cal("size-under", "--size", "63", says=("--size", "MIN_CALIBRATE_SIZE")),
    cal("size-zero", "--size", "0", says=("--size",)),
    cal("size-negative", "--size", "-1024", says=("--size",)),
    cal("size-float", "--size", "1e9", says=("--size",)),
    cal("size-text", "--size", "big", says=("--size",)),
    cal("size-huge-int", "--size", "9" * 5000),
    cal("copy-3000", "--copy-mib", "3000", says=("--copy-mib", "8 to 1024",
                                                 "MAX_CALIBRATE_COPY_MIB")),
    cal("copy-under", "--copy-mib", "7", says=("--copy-mib", "MIN_CALIBRATE_COPY_MIB")),
    cal("copy-zero", "--copy-mib", "0", says=("--copy-mib",)),
    cal("copy-negative", "--copy-mib", "-8", says=("--copy-mib",)),
    cal("repeats-1e9", "--repeats", "1e9", says=("--repeats",)),
    cal("repeats-billion", "--repeats", "1000000000", says=("--repeats", "1 to 100",
                                                            "MAX_CALIBRATE_REPEATS")),
    cal("repeats-zero", "--repeats", "0", says=("--repeats",)),
    cal("repeats-negative", "--repeats", "-5", says=("--repeats",)),
    cal("threads-zero", "--threads", "0", says=("--threads", "1 to 256")),
    cal("threads-huge", "--threads", "100000", says=("--threads", "MAX_CALIBRATE_THREADS")),
    cal("threads-negative", "--threads", "-2", says=("--threads",)),
    cal("library-unknown", "--library", "tensorflow", says=("--library", "numpy")),
    cal("library-empty", "--library", "", says=("--library",)),
    cal("library-esc", "--library", "\x1b[31mnumpy", says=("--library",)),
    cal("name-empty", "--name", "", *CAL_FAST, says=("--name", "empty")),
    cal("name-blank", "--name", "  ", *CAL_FAST, says=("--name",)),
    cal("name-long", "--name", "n" * 101, *CAL_FAST, says=("--name", "MAX_PROFILE_NAME_CHARS")),
    cal("name-megabyte", "--name", "n" * 100_000, *CAL_FAST, says=("--name",)),
    cal("name-esc", "--name", "\x1b[31mred\x1b[0m\x07", "-o", "p.toml", *CAL_FAST,
        expect="ok"),
    cal("name-newline", "--name", 'a"\nb = 1\n[x]\\', "-o", "p.toml", *CAL_FAST, expect="ok"),
    cal("name-bidi", "--name", "\u202eevil", "-o", "p.toml", *CAL_FAST, expect="ok"),
    cal("out-esc-name", "-o", "\x1b[2Jp.toml", *CAL_FAST, expect="ok"),
    # a bad option leaves an existing profile as it was
    cal("old-kept-size", "-o", "old.toml", "--size", "30000", files=OLD, protect=("old.toml",),
        says=("--size",)),
    cal("old-kept-library", "-o", "old.toml", "--library", "cuda", files=OLD,
        protect=("old.toml",), says=("--library",)),
    cal("old-kept-name", "-o", "old.toml", "--name", "", *CAL_FAST, files=OLD,
        protect=("old.toml",), says=("--name",)),
    # targets that cannot be written, refused before the measurement
    cal("out-directory", "-o", "d", *CAL_FAST, setup=_mkdir("d"), says=("directory",)),
    cal("out-dot", "-o", ".", *CAL_FAST, says=("directory",)),
    cal("out-no-folder", "-o", "no/such/folder/p.toml", *CAL_FAST, says=("does not exist",)),
    cal("out-dev-full", "-o", "/dev/full", *CAL_FAST, says=("regular file",)),
    cal("out-dev-null", "-o", "/dev/null", *CAL_FAST, says=("regular file",)),
    cal("out-fifo", "-o", "pipe", *CAL_FAST, setup=_fifo("pipe"), says=("regular file",)),
    cal("out-symlink-dev-full", "-o", "link.toml", *CAL_FAST,
        setup=_symlink("link.toml", "/dev/full"), says=("regular file",)),
    cal("out-proc", "-o", "/proc/costmodel-profile.toml", *CAL_FAST, says=("cannot write",)),
    cal("out-long-name", "-o", "p" * 5000 + ".toml", *CAL_FAST, says=("too long",)),
    cal("out-under-file", "-o", "old.toml/p.toml", *CAL_FAST, files=OLD, protect=("old.toml",)),
]

CASES: list[Case] = HW + LAT + ORDER_CASES + CAL
