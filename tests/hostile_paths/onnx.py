"""Hostile ONNX files (issue 16, items 1-7 and 10, 13): crafted with onnx.helper here, each
counted through the real command line. External data that points at the working folder,
home or absolute paths; escapes in every string a file holds; sizes past every limit;
values that break constant folding; damaged and empty files; dynamic inputs through
``import``. Ids start with ``onnx-``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.hostile_paths import Case

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # the corpus needs onnx to build its files
    onnx = None

ESC = "\x1b[31mRED\x1b[0m"
BIDI = "\u202egnp.exe"
NUL_NL = "a\nb\rc\x07"


def _weight(name, *dims):
    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def _ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _external(name, location, dims=(), dtype=TensorProto.FLOAT if onnx else 1, offset=None,
              length=None):
    tensor = TensorProto(name=name, data_type=dtype, dims=list(dims),
                         data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)
    return tensor


def model(nodes, inits=(), shape=(1, 3, 8, 8), out="y", out_rank=4, opset=17, producer="t",
          inputs=None, **fields) -> bytes:
    """The bytes of a model with input ``x`` and output ``out``."""
    graph = helper.make_graph(
        list(nodes), fields.pop("graph_name", "g"),
        inputs if inputs is not None else
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [None] * out_rank)],
        list(inits))
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name=producer, **fields)
    return made.SerializeToString()


def conv_model(**fields) -> bytes:
    """conv 4 k=3 on 3×8×8 then Relu: a small valid model."""
    return model([helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], name="c"),
                  helper.make_node("Relu", ["a"], ["y"], name="r")],
                 [_weight("w", 4, 3, 3, 3)], **fields)


def clip_model(low, high, inits=()) -> bytes:
    """A conv then Clip whose bounds are the tensors ``low``/``high`` (Constant nodes or
    initializers, given as (node or None, tensor or None))."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], name="c")]
    extra = [_weight("w", 4, 3, 3, 3), *inits]
    for name, value in (("lo", low), ("hi", high)):
        if isinstance(value, TensorProto):
            nodes.append(helper.make_node("Constant", [], [name], value=value))
    nodes.append(helper.make_node("Clip", ["a", "lo", "hi"], ["y"], name="clip"))
    return model(nodes, extra)


def later(name: str, make):
    """A setup that writes ``make()``'s bytes as ``name``: large files are built only when
    their case runs, not whenever the corpus is collected."""
    def write(folder: Path) -> None:
        (folder / name).write_bytes(make())
    return write


def _cases() -> list[Case]:
    if onnx is None:
        return []
    cases: list[Case] = []

    def add(id_, argv, files, expect="error", says=(), **kw):
        cases.append(Case(f"onnx-{id_}", tuple(argv), files, expect=expect, says=says, **kw))

    # --- 1. external data: never outside the model's folder, never echoed ------------------
    targets = {"cwd-secret": "secret.txt", "ssh": ".ssh/id_rsa", "home-ssh": "home/.ssh/id_rsa",
               "abs-passwd": "/etc/passwd", "abs-secret": "{dir}/secret.txt",
               "dotdot": "../secret.txt", "dotdot-deep": "sub/../../secret.txt",
               "tilde": "~/.ssh/id_rsa", "backslash": "..\\secret.txt",
               "proc": "/proc/self/environ", "dev-zero": "/dev/zero", "empty-loc": ""}
    for key, location in targets.items():
        location = location.replace("{dir}", "/nonexistent-dir")
        for kind in ("const", "init"):
            tensor = _external("lo" if kind == "const" else "lo", location)
            files = {"m/m.onnx": clip_model(tensor if kind == "const" else None,
                                            _external("hi", location) if kind == "const"
                                            else None,
                                            () if kind == "const" else
                                            (_external("lo", location),
                                             _external("hi", location)))}
            for command in ("compare", "summary"):
                add(f"ext-{kind}-{key}-{command}", [command, "m/m.onnx"], files, secret=True)
    # the model's folder holds a symlink out of it, a FIFO, a directory
    def symlink(folder: Path):
        (folder / "m").mkdir(exist_ok=True)
        os.symlink(folder / "secret.txt", folder / "m" / "w.bin")

    def fifo(folder: Path):
        (folder / "m").mkdir(exist_ok=True)
        os.mkfifo(folder / "m" / "w.bin")

    def directory(folder: Path):
        (folder / "m" / "w.bin").mkdir(parents=True)

    for key, setup in (("symlink-out", symlink), ("fifo", fifo), ("dir", directory)):
        files = {"m/m.onnx": clip_model(_external("lo", "w.bin"), _external("hi", "w.bin"))}
        add(f"ext-{key}", ["summary", "m/m.onnx"], files, secret=True, setup=setup)
    # inside the folder: offsets and lengths checked, values never printed as text
    inside = {"m/bounds.bin": np.array([0.0, 6.0], dtype=np.float32).tobytes()}
    good = clip_model(_external("lo", "bounds.bin", offset=0, length=4),
                      _external("hi", "bounds.bin", offset=4, length=4))
    add("ext-inside-relu6", ["compare", "m/m.onnx"], {**inside, "m/m.onnx": good}, expect="ok",
        secret=True)
    for key, (offset, length) in {"past-end": (4, 8), "huge-offset": (10**15, 4),
                                  "huge-length": (0, 10**12), "neg-offset": ("-4", 4),
                                  "text-offset": ("zz", 4), "float-len": (0, "4.0"),
                                  "len-mismatch": (0, 2), "offset-19-digits": ("9" * 19, 4),
                                  "offset-40-digits": ("9" * 40, 4)}.items():
        bad = clip_model(_external("lo", "bounds.bin", offset=offset, length=length),
                         _external("hi", "bounds.bin", offset=4, length=4))
        add(f"ext-{key}", ["summary", "m/m.onnx"], {**inside, "m/m.onnx": bad}, secret=True)
    missing = clip_model(_external("lo", "nothere.bin"), _external("hi", "nothere.bin"))
    add("ext-missing-file", ["summary", "m/m.onnx"], {"m/m.onnx": missing}, says=("exist",))
    # bytes of a secret-looking file inside the folder are read as numbers, not text
    letters = {"m/b.bin": b"SECR", "m/m.onnx": clip_model(_external("lo", "b.bin"),
                                                          _external("hi", "b.bin"))}
    add("ext-bytes-as-numbers", ["summary", "m/m.onnx"], letters, expect="ok")
    add("ext-string-tensor", ["summary", "m/m.onnx"],
        {"m/b.bin": b"SECRET-7f3a9c-do-not-print", "m/m.onnx": clip_model(
            _external("lo", "b.bin", dtype=TensorProto.STRING),
            _external("hi", "b.bin", dtype=TensorProto.STRING))}, expect="ok")
    # large weights as external data are never read (only their dims)
    weights = model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])],
                    [_external("w", "/etc/passwd", dims=(64, 3, 3, 3))])
    add("ext-weights-not-read", ["compare", "w.onnx"], {"w.onnx": weights}, expect="ok",
        secret=True)
    weights_home = model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])],
                         [_external("w", "home/.ssh/id_rsa", dims=(64, 3, 3, 3))])
    add("ext-weights-home-not-read", ["summary", "w.onnx"], {"w.onnx": weights_home},
        expect="ok", secret=True)
    # a Constant that is never needed is never read
    unused = model([helper.make_node("Constant", [], ["k"], value=_external("k", "secret.txt")),
                    helper.make_node("Relu", ["x"], ["y"])])
    add("ext-unused-constant", ["compare", "u.onnx"], {"u.onnx": unused}, expect="ok",
        secret=True)
    # a Reshape target as external data pointing at the secret
    reshape = model([helper.make_node("Constant", [], ["s"], value=_external(
                        "s", "secret.txt", dims=(2,), dtype=TensorProto.INT64)),
                     helper.make_node("Reshape", ["x", "s"], ["y"])], out_rank=2)
    add("ext-reshape-target", ["summary", "r.onnx"], {"r.onnx": reshape}, secret=True)

    # --- 2. strings from the file reach output only escaped ---------------------------------
    for key, bad in (("esc", ESC), ("bidi", BIDI), ("newline", NUL_NL),
                     ("long", "n" * 3000 + ESC)):
        add(f"str-producer-{key}", ["compare", "p.onnx"],
            {"p.onnx": conv_model(producer=bad)}, expect="ok")
        add(f"str-producer-summary-{key}", ["summary", "p.onnx"],
            {"p.onnx": conv_model(producer=bad)}, expect="ok")
        add(f"str-doc-{key}", ["summary", "d.onnx"], {"d.onnx": conv_model(doc_string=bad)},
            expect="ok")
        custom = model([helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3]),
                        helper.make_node(f"Op{bad}", ["a"], ["y"], domain=f"dom{bad}")],
                       [_weight("w", 4, 3, 3, 3)])
        # the checker refuses an op of an unknown domain: one error line, escaped
        add(f"str-custom-op-{key}", ["compare", "c.onnx"], {"c.onnx": custom})
        named = model([helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3],
                                        name=f"conv{bad}"),
                       helper.make_node("Relu", ["a"], ["y"], name=f"relu{bad}")],
                      [_weight("w", 4, 3, 3, 3)])
        add(f"str-node-name-{key}", ["summary", "n.onnx"], {"n.onnx": named}, expect="ok")
        add(f"str-node-name-import-{key}", ["import", "n.onnx"], {"n.onnx": named}, expect="ok")
        missing_input = model([helper.make_node("Relu", [f"gone{bad}"], ["y"],
                                                name=f"r{bad}")])
        add(f"str-missing-input-{key}", ["compare", "mi.onnx"], {"mi.onnx": missing_input},
            says=("reads",))
        two_inputs = model([helper.make_node("Add", [f"x", f"z{bad}"], ["y"])], inputs=[
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]),
            helper.make_tensor_value_info(f"z{bad}", TensorProto.FLOAT, [1, 3, 8, 8])])
        add(f"str-graph-inputs-{key}", ["compare", "ti.onnx"], {"ti.onnx": two_inputs},
            says=("inputs",))
        init_named = model([helper.make_node("Conv", ["x", f"w{bad}"], ["y"],
                                             kernel_shape=[5, 5])],
                           [_weight(f"w{bad}", 4, 3, 3, 3)])
        add(f"str-init-name-{key}", ["compare", "i.onnx"], {"i.onnx": init_named},
            says=("kernel_shape",))
        add(f"str-dim-param-{key}", ["compare", "dp.onnx"],
            {"dp.onnx": conv_model(shape=(1, 3, f"h{bad}", 8))}, says=("dynamic",))
        add(f"str-file-name-{key}", ["compare", f"f{bad[:40]}.onnx"],
            {f"f{bad[:40]}.onnx": conv_model()}, expect="ok")
        add(f"str-auto-pad-{key}", ["compare", "ap.onnx"], {"ap.onnx": model(
            [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                              auto_pad=bad)], [_weight("w", 4, 3, 3, 3)])})
    # a name scope holding escapes becomes a plain dotted layer name
    scoped = onnx.load_from_string(conv_model())
    prop = scoped.graph.node[0].metadata_props.add()
    prop.key, prop.value = "pkg.torch.onnx.name_scopes", repr(["", f"a{ESC}", "b\n", "conv"])
    add("str-name-scope-escapes", ["summary", "s.onnx"], {"s.onnx": scoped.SerializeToString()},
        expect="ok")

    # --- 3. bounds before work ---------------------------------------------------------------
    def sparse(name, size):
        def make(folder: Path):
            with open(folder / name, "wb") as stream:
                stream.truncate(size)
        return make

    add("size-10g-sparse", ["compare", "big.onnx"], {}, setup=sparse("big.onnx", 10 * 2**30),
        says=("MAX_ONNX_BYTES",))
    add("size-3g-sparse", ["summary", "big.onnx"], {}, setup=sparse("big.onnx", 3 * 2**30),
        says=("MAX_ONNX_BYTES",))
    add("fifo", ["compare", "p.onnx"], {}, setup=lambda d: os.mkfifo(d / "p.onnx"),
        says=("regular file",))
    add("directory", ["compare", "d.onnx"], {}, setup=lambda d: (d / "d.onnx").mkdir(),
        says=("directory",))
    add("dev-null-link", ["compare", "n.onnx"], {},
        setup=lambda d: os.symlink("/dev/null", d / "n.onnx"), says=("regular file",))
    add("dev-zero-link", ["compare", "z.onnx"], {},
        setup=lambda d: os.symlink("/dev/zero", d / "z.onnx"), says=("regular file",))
    add("no-such-file", ["compare", "gone.onnx"], {}, says=("no such file",))
    add("import-fifo", ["import", "p.onnx"], {}, setup=lambda d: os.mkfifo(d / "p.onnx"),
        says=("regular file",))

    def relu_chain(count):
        nodes = [helper.make_node("Relu", [f"t{i}" if i else "x"], [f"t{i + 1}"])
                 for i in range(count)]
        return model(nodes, out=f"t{count}")

    add("nodes-over-limit", ["compare", "n.onnx"], {},
        setup=later("n.onnx", lambda: relu_chain(50_001)), says=("MAX_ONNX_NODES",))
    add("nodes-10x-limit", ["summary", "n.onnx"], {},
        setup=later("n.onnx", lambda: relu_chain(200_000)), says=("MAX_ONNX_NODES",))
    add("nodes-20000-chain", ["compare", "n.onnx"], {},
        setup=later("n.onnx", lambda: relu_chain(20_000)), expect="ok")
    long_name = model([helper.make_node("Relu", ["x"], ["y"], name="n" * 5000)])
    add("name-too-long", ["compare", "l.onnx"], {"l.onnx": long_name},
        says=("MAX_ONNX_NAME_CHARS",))
    add("tensor-name-100k", ["compare", "l.onnx"], {}, setup=later("l.onnx", lambda: model(
        [helper.make_node("Relu", ["x"], ["t" * 100_000]),
         helper.make_node("Relu", ["t" * 100_000], ["y"])])), says=("MAX_ONNX_NAME_CHARS",))
    long_op = model([helper.make_node("R" * 10_000, ["x"], ["y"])])
    add("op-type-too-long", ["compare", "l.onnx"], {"l.onnx": long_op},
        says=("MAX_ONNX_NAME_CHARS",))
    many_ints = model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                        pads=[0] * 100_000)], [_weight("w", 4, 3, 3, 3)])
    add("attribute-100k-ints", ["compare", "a.onnx"], {"a.onnx": many_ints},
        says=("MAX_ONNX_ATTRIBUTE_VALUES",))
    add("attribute-1mb-string", ["compare", "a.onnx"], {}, setup=later("a.onnx", lambda: model(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                          auto_pad="S" * 1_000_000)], [_weight("w", 4, 3, 3, 3)])),
        says=("MAX_ONNX_ATTRIBUTE_BYTES",))

    def nested(depth):
        body = helper.make_graph([helper.make_node("Identity", ["x"], ["o"])], "b", [],
                                 [helper.make_tensor_value_info("o", TensorProto.FLOAT, None)])
        leaf = body
        for _ in range(depth):
            node = helper.make_node("If", ["c"], ["o"], then_branch=body, else_branch=leaf)
            body = helper.make_graph([node], "b", [],
                                     [helper.make_tensor_value_info("o", TensorProto.FLOAT,
                                                                    None)])
        return model([*body.node[:0], helper.make_node("Constant", [], ["c"],
                                                       value=numpy_helper.from_array(
                                                           np.array(True), "c")),
                      helper.make_node("If", ["c"], ["y"], then_branch=body,
                                       else_branch=leaf)])

    add("graph-nesting-9", ["compare", "i.onnx"], {"i.onnx": nested(9)},
        says=("MAX_ONNX_GRAPH_DEPTH",))
    add("graph-nesting-20", ["compare", "i.onnx"], {"i.onnx": nested(20)})
    add("graph-nesting-2", ["compare", "i.onnx"], {"i.onnx": nested(2)})
    def huge_scope():
        made = onnx.load_from_string(conv_model())
        prop = made.graph.node[0].metadata_props.add()
        prop.key, prop.value = "pkg.torch.onnx.name_scopes", repr(["a"] * 2_000_000)
        return made.SerializeToString()

    add("name-scope-10mb", ["summary", "s.onnx"], {}, setup=later("s.onnx", huge_scope),
        expect="ok")
    deep_scope = onnx.load_from_string(conv_model())
    prop = deep_scope.graph.node[0].metadata_props.add()
    prop.key, prop.value = "pkg.torch.onnx.name_scopes", "[" * 3000 + "]" * 3000
    add("name-scope-deep", ["summary", "s.onnx"], {"s.onnx": deep_scope.SerializeToString()},
        expect="ok")
    code_scope = onnx.load_from_string(conv_model())
    prop = code_scope.graph.node[0].metadata_props.add()
    prop.key, prop.value = "pkg.torch.onnx.name_scopes", \
        "__import__('os').system('touch {marker}')"
    add("name-scope-code", ["summary", "s.onnx"], {"s.onnx": code_scope.SerializeToString()},
        expect="ok")

    # constant folding: squaring, inf, NaN, huge lists
    def folding(ops, start, dtype=np.int64, extra=()):
        nodes = [helper.make_node("Shape", ["x"], ["s0"])]
        inits = [numpy_helper.from_array(np.array(start, dtype=dtype), "k")]
        last = "k"
        for i, op in enumerate(ops):
            nodes.append(helper.make_node(op, [last, last], [f"v{i}"]))
            last = f"v{i}"
        nodes += list(extra)
        nodes.append(helper.make_node("Reshape", ["x", last], ["y"]))
        return model(nodes, inits, out_rank=2)

    add("fold-square-60", ["compare", "f.onnx"], {"f.onnx": folding(["Mul"] * 60, [3, 5])})
    add("fold-square-200", ["summary", "f.onnx"], {"f.onnx": folding(["Mul"] * 200, [7, 7])})
    add("fold-concat-doubling", ["compare", "f.onnx"],
        {"f.onnx": folding(["Concat"] * 30, [1, 2])})
    add("fold-add-doubling", ["compare", "f.onnx"], {"f.onnx": folding(["Add"] * 100, [1, 1])})
    for key, value in (("inf", np.inf), ("nan", np.nan), ("neg-inf", -np.inf),
                       ("huge", 3e38)):
        floats = [value, 2.0]
        add(f"fold-float-{key}", ["compare", "f.onnx"], {"f.onnx": folding(
            ["Mul", "Div"], floats, np.float32,
        )})
        floor = model([helper.make_node("Floor", ["k"], ["fl"]),
                       helper.make_node("Cast", ["fl"], ["ci"], to=TensorProto.INT64),
                       helper.make_node("Reshape", ["x", "ci"], ["y"])],
                      [numpy_helper.from_array(np.array(floats, np.float32), "k")], out_rank=2)
        add(f"fold-floor-{key}", ["summary", "f.onnx"], {"f.onnx": floor})
        add(f"clip-bound-{key}", ["summary", "c.onnx"], {"c.onnx": clip_model(
            numpy_helper.from_array(np.array(value, np.float32), "lo"),
            numpy_helper.from_array(np.array(6.0, np.float32), "hi"))}, expect="ok")
    add("fold-div-zero", ["compare", "f.onnx"], {"f.onnx": folding(["Sub", "Div"], [4, 4])})
    gather_nan = model([helper.make_node("Shape", ["x"], ["s"]),
                        helper.make_node("Gather", ["s", "i"], ["g"]),
                        helper.make_node("Reshape", ["x", "g"], ["y"])],
                       [numpy_helper.from_array(np.array([np.nan], np.float32), "i")],
                       out_rank=1)
    add("fold-gather-nan", ["compare", "g.onnx"], {"g.onnx": gather_nan})
    big_int = model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                    [numpy_helper.from_array(np.array([2**62, -1], np.int64), "s")], out_rank=2)
    add("reshape-huge-target", ["compare", "r.onnx"], {"r.onnx": big_int})
    uint = model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                 [numpy_helper.from_array(np.array([2**64 - 1, 1], np.uint64), "s")],
                 out_rank=2)
    add("reshape-uint64-max", ["compare", "r.onnx"], {"r.onnx": uint})
    lying = onnx.load_from_string(model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                                        [_ints("s", [1, 192])], out_rank=2))
    lying.graph.initializer[0].dims[:] = [10**9]
    add("init-dims-lie", ["compare", "r.onnx"], {"r.onnx": lying.SerializeToString()})
    lying_small = onnx.load_from_string(model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                                              [_ints("s", [1, 192])], out_rank=2))
    lying_small.graph.initializer[0].dims[:] = [3]
    add("init-dims-lie-small", ["compare", "r.onnx"], {"r.onnx": lying_small.SerializeToString()})
    neg_dims = onnx.load_from_string(conv_model())
    neg_dims.graph.initializer[0].dims[:] = [4, 3, -3, 3]
    add("init-negative-dims", ["compare", "n.onnx"], {"n.onnx": neg_dims.SerializeToString()})
    add("input-channels-zero", ["compare", "z.onnx"], {"z.onnx": conv_model(shape=(1, 0, 8, 8))})
    add("input-channels-huge", ["compare", "z.onnx"],
        {"z.onnx": conv_model(shape=(1, 2**40, 8, 8))})
    add("input-side-negative", ["compare", "z.onnx"], {"z.onnx": conv_model(shape=(1, 3, -8, 8))})
    # a 3-D input is a sequence now (N×C×L); a 2-D conv's weight on it is refused in one line
    add("input-3d", ["compare", "z.onnx"], {"z.onnx": conv_model(shape=(1, 3, 8))})
    add("input-resolution-huge", ["compare", "m.onnx:resolution=" + "9" * 30],
        {"m.onnx": conv_model()})
    add("input-resolution-text", ["compare", "m.onnx:resolution=abc"], {"m.onnx": conv_model()})
    add("input-unknown-knob", ["compare", f"m.onnx:al{ESC}pha=1"], {"m.onnx": conv_model()})
    big_kernel = model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2**40, 2**40])])
    add("pool-kernel-2e40", ["compare", "k.onnx"], {"k.onnx": big_kernel})
    big_stride = model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                         strides=[2**62, 2**62])], [_weight("w", 4, 3, 3, 3)])
    add("conv-stride-2e62", ["compare", "k.onnx"], {"k.onnx": big_stride}, expect="ok")

    # --- 4. tracebacks become one line -------------------------------------------------------
    raw_attr = onnx.load_from_string(model([helper.make_node(
        "Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], auto_pad=b"\xff\xfeNOTSET")],
        [_weight("w", 4, 3, 3, 3)]))
    add("attr-not-utf8", ["compare", "a.onnx"], {"a.onnx": raw_attr.SerializeToString()})
    good_bytes = conv_model()
    for key, old, new in (("node-name", b"\x12\x01c", b"\x12\x01\xff"),
                          ("op-type", b"Relu", b"R\xffl\xfe"),
                          ("producer", b"\x12\x01t", b"\x12\x01\xff")):
        if old in good_bytes:  # a producer is only shown (escaped); names must be text
            add(f"not-utf8-{key}", ["compare", "u.onnx"],
                {"u.onnx": good_bytes.replace(old, new, 1)},
                expect="ok" if key == "producer" else "error")
    loop_body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Relu", ["x"], ["r"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 3, 8, 8])])
    with_loop = [helper.make_node("Loop", ["", ""], ["y"], body=loop_body)]
    big_external = [_external("w", "weights.bin", dims=(4, 3, 3, 3))]
    add("loop-subgraph", ["compare", "l.onnx"], {"l.onnx": model(with_loop)})
    add("loop-subgraph-external", ["compare", "l.onnx"],
        {"l.onnx": model([*with_loop, helper.make_node("Conv", ["y", "w"], ["z"],
                                                       kernel_shape=[3, 3])],
                         big_external, out="z")})
    scan = helper.make_node("Scan", ["x"], ["y"], body=loop_body, num_scan_inputs=1)
    add("scan-subgraph-external", ["summary", "s.onnx"],
        {"s.onnx": model([scan, helper.make_node("Conv", ["y", "w"], ["z"], kernel_shape=[3, 3])],
                         big_external, out="z")})
    if_bad = helper.make_node("If", ["x"], ["y"], then_branch=loop_body, else_branch=loop_body)
    add("if-on-image", ["compare", "i.onnx"], {"i.onnx": model([if_bad], big_external)})
    bad_attr_type = model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                            group="two")], big_external)
    add("attr-wrong-type-external", ["compare", "a.onnx"], {"a.onnx": bad_attr_type})
    unknown_op = model([helper.make_node("NoSuchOp", ["x"], ["y"])], big_external)
    add("unknown-op-external", ["compare", "u.onnx"], {"u.onnx": unknown_op})
    add("lrn-no-size-external", ["compare", "l.onnx"],
        {"l.onnx": model([helper.make_node("LRN", ["x"], ["y"])], big_external)})
    # onnx's checker accepts an opset newer than it knows and Conv/Relu exist since opset 1
    add("opset-1000", ["compare", "o.onnx"], {"o.onnx": conv_model(opset=1000)}, expect="ok")
    add("opset-0", ["compare", "o.onnx"], {"o.onnx": conv_model(opset=0)})
    add("opset-1", ["compare", "o.onnx"], {"o.onnx": conv_model(opset=1)}, expect="ok")

    # --- 5. kernel_shape against the weight --------------------------------------------------
    for key, kernel, weight in (("5on3", [5, 5], (8, 3, 3, 3)), ("3on5", [3, 3], (8, 3, 5, 5)),
                                ("1on3", [1, 1], (8, 3, 3, 3)), ("3x5on3", [3, 5], (8, 3, 3, 3))):
        add(f"kernel-{key}", ["compare", "k.onnx"], {"k.onnx": model(
            [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=kernel, name="c1")],
            [_weight("w", *weight)], shape=(1, 3, 16, 16))}, says=("kernel_shape", "c1"))
        add(f"kernel-ext-{key}", ["summary", "k.onnx"], {"k.onnx": model(
            [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=kernel, name="c1")],
            [_external("w", "w.bin", dims=weight)], shape=(1, 3, 16, 16))},
            says=("kernel_shape",))
    add("kernel-matches", ["compare", "k.onnx"], {"k.onnx": model(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])],
        [_weight("w", 8, 3, 3, 3)])}, expect="ok")
    add("kernel-1d-weight", ["compare", "k.onnx"], {"k.onnx": model(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3])],
        [_weight("w", 8, 3, 3)], shape=(1, 3, 8))})

    # --- 6. error lines: cycles, empty graphs, damaged files ---------------------------------
    def cycle(count):
        nodes = [helper.make_node("Relu", [f"c{(i + 1) % count}"], [f"c{i}"], name=f"n{i}")
                 for i in range(count)]
        nodes.append(helper.make_node("Add", ["x", "c0"], ["y"]))
        return model(nodes)

    add("cycle-40000", ["compare", "c.onnx"], {}, setup=later("c.onnx", lambda: cycle(40_000)),
        says=("cycle", "more"))
    add("cycle-2", ["compare", "c.onnx"], {"c.onnx": cycle(2)}, says=("cycle",))
    add("cycle-self", ["compare", "c.onnx"],
        {"c.onnx": model([helper.make_node("Add", ["x", "y"], ["y"])])}, says=("cycle",))
    add("cycle-100000", ["compare", "c.onnx"], {},
        setup=later("c.onnx", lambda: cycle(100_000)), says=("MAX_ONNX_NODES",))
    empty = model([])
    add("no-nodes", ["compare", "e.onnx"], {"e.onnx": empty}, says=("no nodes",))
    add("no-nodes-summary", ["summary", "e.onnx"], {"e.onnx": empty}, says=("no nodes",))
    add("empty-file", ["compare", "e.onnx"], {"e.onnx": b""}, says=("not an ONNX file",))
    add("text-file", ["compare", "t.onnx"], {"t.onnx": b"hello\nworld\n"})
    add("cm-as-onnx", ["compare", "t.onnx"], {"t.onnx": "model x\ninput 3 8 8\nrelu\n"})
    whole = conv_model()
    for fraction in (0.1, 0.5, 0.9, 0.99):
        add(f"truncated-{fraction}", ["compare", "t.onnx"],
            {"t.onnx": whole[:int(len(whole) * fraction)]})
    add("random-bytes", ["compare", "r.onnx"], {"r.onnx": bytes(range(256)) * 40})
    add("zeros", ["compare", "z.onnx"], {"z.onnx": bytes(4096)})
    add("ir-only", ["compare", "i.onnx"], {"i.onnx": b"\x08\x07"}, says=("incomplete",))
    add("dup-output", ["compare", "d.onnx"], {"d.onnx": model([
        helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])])},
        says=("twice",))
    add("output-not-computed", ["compare", "o.onnx"],
        {"o.onnx": model([helper.make_node("Relu", ["x"], ["a"])], out="b" * 3000)},
        says=("not computed",))
    only_consts = model([helper.make_node("Constant", [], ["y"], value=_ints("v", [1]))])
    add("only-constants", ["compare", "c.onnx"], {"c.onnx": only_consts})
    many_uncounted = model([helper.make_node(op, ["x" if i == 0 else f"t{i}"], [f"t{i + 1}"])
                            for i, op in enumerate(["Exp", "Log", "Abs", "Neg", "Sqrt", "Sin",
                                                    "Cos", "Softplus", "Elu", "Acos", "Asin",
                                                    "Atan"])], out="t12")  # none counted
    add("no-counted-node", ["compare", "u.onnx"], {"u.onnx": many_uncounted})
    add("shape-inference-fails", ["compare", "s.onnx"], {"s.onnx": model(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])],
        [_weight("w", 4, 5, 3, 3)])})

    # --- uncounted ops stay listed (warnings kept) -------------------------------------------
    softmax = model([helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3]),
                     helper.make_node("Hardmax", ["a"], ["y"], axis=1)],
                    [_weight("w", 4, 3, 3, 3)])
    add("uncounted-softmax", ["compare", "s.onnx"], {"s.onnx": softmax}, expect="ok")
    add("uncounted-softmax-json", ["compare", "s.onnx", "-f", "json"], {"s.onnx": softmax},
        expect="ok")

    # --- 7. dynamic inputs through import, derive, solve --------------------------------------
    dynamic = conv_model(shape=(1, 3, "height", "width"))
    add("dyn-import-stdout", ["import", "d.onnx"], {"d.onnx": dynamic}, expect="ok")
    add("dyn-import-o", ["import", "d.onnx", "-o", "net.cm"], {"d.onnx": dynamic}, expect="ok")
    add("dyn-import-resolution", ["import", "d.onnx:resolution=32"], {"d.onnx": dynamic},
        expect="ok")
    add("dyn-compare-no-size", ["compare", "d.onnx"], {"d.onnx": dynamic}, says=("dynamic",))
    add("dyn-compare-input", ["compare", "d.onnx", "--input", "1,3,32,32"], {"d.onnx": dynamic},
        expect="ok")
    add("dyn-solve-suggests", ["solve", "d.onnx", "--macs", "1M", "--for", "resolution"],
        {"d.onnx": dynamic}, says=("costmodel import",))
    add("dyn-derive-suggests", ["derive", "d.onnx"], {"d.onnx": dynamic},
        says=("costmodel import",))
    add("dyn-import-o-dir", ["import", "d.onnx", "-o", "out"], {"d.onnx": dynamic},
        setup=lambda d: (d / "out").mkdir(), says=("directory",))
    add("import-o-keeps-old", ["import", "bad.onnx", "-o", "net.cm"],
        {"bad.onnx": b"junk", "net.cm": "old\n"}, protect=("net.cm",))
    add("dyn-import-too-small", ["import", "d.onnx:resolution=1"], {"d.onnx": dynamic})
    return cases


CASES = _cases()
