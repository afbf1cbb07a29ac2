"""Every size limit costmodel enforces on user input, in one place.

An architecture file, a SPEC string or a command-line option is data from anywhere; these
limits keep reading it within a second or two and a modest amount of memory, whatever it
says. Each is far beyond what a real architecture needs (the largest zoo model, ResNet-152,
has 514 layers; no zoo file nests sections deeper than 5 levels or writes an expression of
more than 140 characters) and each is
checked *before* the work it bounds, never by catching MemoryError afterwards. The README's
"Safety" section lists them; an error that hits one names it.
"""

from __future__ import annotations

#: Significant digits of one number literal (``0.75``, ``300e6``), in a file or an option.
MAX_LITERAL_DIGITS = 40
#: Largest decimal exponent of a literal, either sign: ``1e-999999999`` is refused.
MAX_LITERAL_EXPONENT = 40
#: Largest magnitude of any number an expression computes (a fraction's numerator and
#: denominator too) and of each side of a layer's output: 10**60 (a 200-bit integer).
#: Checked before a power is computed.
MAX_NUMBER_DIGITS = 60
MAX_NUMBER = 10 ** MAX_NUMBER_DIGITS
#: Largest exponent in ``x ** n`` (``n`` must be a whole number), and largest degree a
#: symbolic value may reach (``alpha**64``).
MAX_EXPONENT = 64
#: Characters, syntax-tree nodes and nesting depth of one expression.
MAX_EXPRESSION_CHARS = 1000
MAX_EXPRESSION_NODES = 400
MAX_EXPRESSION_DEPTH = 30
#: Size of a symbolic value (sympy tree nodes) that an expression may build.
MAX_SYMBOLIC_NODES = 2000
#: Work of one build: expression steps (syntax-tree nodes visited, inside ``let`` functions
#: too) plus layers built, the search for the smallest working resolution included (about
#: half a second; the zoo needs at most 2,300).
MAX_BUILD_STEPS = 100_000
#: Depth of ``let`` function calls inside calls (the zoo needs 2).
MAX_CALL_DEPTH = 8
#: ``n=`` of one layer line.
MAX_REPEAT = 10_000
#: Layers in one built network (counting BN and activation layers).
MAX_LAYERS = 20_000
#: Blocks called inside blocks (the zoo needs 3).
MAX_BLOCK_DEPTH = 16
#: Sections inside sections (``group:``, ``if``, ``residual:``...), counted through block
#: calls too (the zoo needs 5, counting the top level).
MAX_NESTING = 40
#: Size of an architecture file (the largest zoo file is under 10 kB).
MAX_FILE_BYTES = 1_000_000
#: Size of the Python file of a ``file.py:factory`` SPEC (it runs: this only keeps a pipe, a
#: device or a huge file from hanging or flooding the reader; examples/my_net.py has 2 kB).
MAX_PYTHON_FILE_BYTES = 2_000_000
#: Characters of one line of a file (the longest zoo line has under 200).
MAX_LINE_CHARS = 10_000
#: Points of one sweep grid (the Cartesian product of its lists): the 10^6-point benchmark
#: (benchmarks/bench_sweep.py). The cost is per point and output column, not the closed
#: forms: at 10^6 points the slowest output (idealized widths, float counts, JSON, --memory)
#: takes about 5 s and 350 MB; 10^7 points took 1.5 GB even for a CSV of exact integers.
MAX_GRID_POINTS = 1_000_000
#: Values one sweep LIST may hold, ranges counted arithmetically before any is expanded.
MAX_LIST_VALUES = 1_000_000
#: ``sweep --check``: grid points checked against networks built one by one (each a build).
MAX_SWEEP_CHECKS = 1000
#: ``costmodel collapse``: points on the spiral, the largest embedding dimension, how many
#: dimensions one run takes, and points × dimension summed over them (the size of the arrays).
MAX_COLLAPSE_POINTS = 1_000_000
MAX_COLLAPSE_DIMENSION = 10_000
MAX_COLLAPSE_RUNS = 100
MAX_COLLAPSE_CELLS = 20_000_000
#: Hardware profiles (``latency --hw FILE.toml``): size of the file and of one line (a real
#: profile has under 1 kB and lines under 300 characters; the line bound also bounds how deep
#: one dotted key nests, which TOML's reader handles in time quadratic in its depth).
MAX_PROFILE_BYTES = 100_000
MAX_PROFILE_LINE_CHARS = 1000
#: Characters of a profile's ``name`` (and ``calibrate --name``) and of its ``description``
#: and ``source``.
MAX_PROFILE_NAME_CHARS = 100
MAX_PROFILE_TEXT_CHARS = 1000
#: The physically sane range of a profile's figures: peak MACs per second (a microcontroller
#: does ~10^7, the largest accelerators ~10^15 at 8 bits), memory bandwidth in bytes per second
#: (HBM3e: ~10^13) and the fixed cost per kernel in seconds (a GPU launch: ~10^-5).
MIN_PEAK_MACS_PER_SECOND = 1_000
MAX_PEAK_MACS_PER_SECOND = 10 ** 18
MIN_BANDWIDTH_BYTES_PER_SECOND = 1_000
MAX_BANDWIDTH_BYTES_PER_SECOND = 10 ** 16
MAX_OVERHEAD_SECONDS_PER_LAYER = 1
#: ``latency --batch``: images per batch.
MAX_LATENCY_BATCH = 1_000_000
#: ``memory --order FILE``: size of the file (MAX_LAYERS names of up to ~200 characters).
MAX_ORDER_BYTES = 4_000_000
#: ``costmodel calibrate``: the matrix side (4096: 64 MiB per matrix, ~2 s per product on one
#: core), the MiB copied (twice that resident), the runs of each measurement and the threads.
MIN_CALIBRATE_SIZE = 64
MAX_CALIBRATE_SIZE = 4096
MIN_CALIBRATE_COPY_MIB = 8
MAX_CALIBRATE_COPY_MIB = 1024
MAX_CALIBRATE_REPEATS = 100
MAX_CALIBRATE_THREADS = 256
#: ONNX files (``model.onnx`` SPECs). Size of the file: protobuf's own limit on one message
#: (weights beyond it are external data, which costmodel reads only for small constants).
MAX_ONNX_BYTES = 2**31 - 1
#: Nodes of an ONNX graph, subgraphs included (a real export of a CNN has a few thousand;
#: the layers it gives stay under MAX_LAYERS).
MAX_ONNX_NODES = 50_000
#: Characters of one name in an ONNX file: node, tensor, input, output, op type, domain,
#: attribute names (real exports use under 300).
MAX_ONNX_NAME_CHARS = 4096
#: Values of one node attribute (ints, floats or strings), and bytes of one string attribute.
MAX_ONNX_ATTRIBUTE_VALUES = 4096
MAX_ONNX_ATTRIBUTE_BYTES = 65_536
#: Graphs inside node attributes inside graphs (If, Loop, Scan bodies).
MAX_ONNX_GRAPH_DEPTH = 8
#: Characters of a node's metadata value that costmodel parses (torch's name scopes).
MAX_ONNX_METADATA_CHARS = 10_000
#: Bytes of one tensor's external data read for its values (only small constants are read:
#: a Reshape target, Clip bounds), after its offset and length are checked against the file.
MAX_ONNX_EXTERNAL_BYTES = 1_048_576
#: Values of one constant tensor that costmodel folds (shapes, bounds), and the largest
#: magnitude of a folded integer (a shape computation needs far less than 2**63).
MAX_ONNX_CONSTANT_VALUES = 4096
MAX_ONNX_CONSTANT_DIGITS = 30
#: Characters of an ONNX Einsum equation read (a batched matmul of rank-8 tensors, spaced as
#: torch writes it, is under 60); a longer one is refused before onnx's shape inference.
MAX_EINSUM_EQUATION_CHARS = 200
#: Elements of the real input a PyTorch module runs on when torch.fx cannot trace it (the
#: forward-hook fallback allocates it and every feature map after it): 16M elements, 64 MB in
#: fp32, a batch of 100 images of 224×224. torch.fx's trace runs on fake tensors, unbounded.
MAX_TRACED_INPUT_ELEMENTS = 16_777_216
#: Inputs of one traced module (``--input`` given that many times; a forward of a real
#: multi-input network takes two or three), and axes of one input (N and up to 7 more).
MAX_INPUTS = 16
MAX_INPUT_RANK = 8
#: How much of a long expression, name or string from a file an error message quotes.
MAX_QUOTED_CHARS = 60
#: How much of a path an error message quotes.
MAX_QUOTED_PATH_CHARS = 200
#: Characters of one error line on stderr: whatever a message holds, it is cut here.
MAX_ERROR_CHARS = 400


def excerpt(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` shortened to ``limit`` characters for an error message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"
