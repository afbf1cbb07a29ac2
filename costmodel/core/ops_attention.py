"""Contractions and attention, each one definition (as core/ops.py): a matrix product of two
tensors (``matmul``, ``bmm``, a two-operand ``einsum``), scaled-dot-product attention of
q, k, v, multi-head self-attention (``nn.MultiheadAttention``) and MobileNetV4's Mobile
multi-query attention (arXiv 2404.10518 §4, timm's ``MultiQueryAttention2d``).

Attention's MACs are its matmuls, as torch's FlopCounterMode counts them when it sees them
(``sdpa_flop_count``: two batched matmuls, q·kᵀ and the weights times v); softmax, scaling
and masking are elementwise work. Over a sequence of L tokens of D features in h heads,
multi-head self-attention costs 4·L·D² (the q, k, v and output projections) + 2·L²·D (the
two matmuls, D/h per head over h heads): the quadratic term in the number of tokens.
"""

from __future__ import annotations

from sympy import Float, floor

from ..errors import CostModelError
from .op_parts import onnx_read, check_divides, known, modern_form, out_size, product
from .opdef import Counts, Memory, Onnx, Result, Shape, Torch, attr, op
from .ops_tokens import tokens_of


def _broadcast(a: tuple, b: tuple, what: str) -> tuple:
    """The batch sizes of two operands broadcast as torch does (aligned on the right, a
    size 1 or a missing axis stretching)."""
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    shorter = (1,) * (len(longer) - len(shorter)) + tuple(shorter)
    out = []
    for x, y in zip(longer, shorter):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise CostModelError(f"{what}: batch sizes {a} and {b} do not broadcast")
    return tuple(out)


def _last(x: Shape, what: str) -> None:
    if x.layout != "last" or x.rank < 1:
        raise CostModelError(f"{what} reads tensors of the last layout (…×M×K); got {x}")


def _einsum_path(inputs, attrs) -> dict:
    """``einsum_path``: what fvcore reports for an ``einsum`` other than its two batched
    matmul forms: numpy's ``einsum_path`` "Optimized FLOP count" (2·MACs), as that report
    prints it (``%.3e``: four significant digits), halved and floored."""
    a, b = inputs
    macs = matmul(list(inputs)).counts.macs
    if not macs.is_number:
        return {"einsum_path": macs}
    return {"einsum_path": floor(Float(f"{float(2 * macs):.3e}") / 2)}


@op("matmul", inputs="many", category="multiply-accumulate", display="matmul",
    torch=Torch("torch.matmul", modern_form("matmul_module"),
                ("@", "Tensor.matmul", "torch.bmm", "Tensor.bmm", "torch.einsum"),
                {"torch.matmul": modern_form("matmul_function")}),
    onnx=onnx_read("MatMul of two computed tensors"), memory=Memory(stream="reducing"),
    quantities=_einsum_path)
def matmul(xs: list[Shape]) -> Result:
    """The matrix product of a (…×M×K, ``Shape(K, (…, M), "last")``) and b (…×K×N,
    ``Shape(N, (…, K), "last")``), batch axes broadcast: MACs = batch·M·K·N (torch's
    ``matmul``, ``bmm``; an ``einsum`` of two operands is one with its indices grouped as
    batch, M, K and N). No params: both operands are computed."""
    if len(xs) != 2:
        raise CostModelError(f"matmul multiplies two tensors, got {len(xs)}")
    a, b = xs
    _last(a, "matmul")
    _last(b, "matmul")
    if known(a.c) and known(b.sizes[-1]) and a.c != b.sizes[-1]:
        raise CostModelError(f"matmul of {a} and {b}: the inner sizes {a.c} and "
                             f"{b.sizes[-1]} differ")
    batch = _broadcast(a.sizes[:-1], b.sizes[:-1], "matmul")
    out = Shape(b.c, (*batch, a.sizes[-1]), layout="last")
    return Result(out, Counts(macs=out.numel * a.c, activations=out.numel))


@op("sdpa", inputs="many", category="multiply-accumulate", display="attention",
    torch=Torch("F.scaled_dot_product_attention", modern_form("attention_module"), (),
                {"F.scaled_dot_product_attention": modern_form("attention_function")}),
    onnx=Onnx((), note="exporters write MatMul, Softmax and MatMul (read as matmul and "
                       "softmax layers)"),
    memory=Memory())
def scaled_dot_product_attention(xs: list[Shape]) -> Result:
    """softmax(q·kᵀ/√E)·v for q (…×L×E), k (…×S×E), v (…×S×Ev), batch axes
    (heads) broadcast: MACs = batch·L·S·(E + Ev), the two matmuls (torch's ``sdpa_flop_count``).
    Elementwise 3·batch·L·S (scale, exp, divide). No params."""
    if len(xs) != 3:
        raise CostModelError(f"sdpa reads q, k and v, got {len(xs)} tensors")
    q, k, v = xs
    for t in xs:
        _last(t, "sdpa")
    if known(q.c) and known(k.c) and q.c != k.c or \
            known(k.sizes[-1]) and known(v.sizes[-1]) and k.sizes[-1] != v.sizes[-1]:
        raise CostModelError(f"sdpa of q {q}, k {k}, v {v}: q and k need equal features, "
                             "k and v equal lengths")
    batch = _broadcast(_broadcast(q.sizes[:-1], k.sizes[:-1], "sdpa"), v.sizes[:-1], "sdpa")
    length, keys = q.sizes[-1], k.sizes[-1]
    scores = product(batch) * length * keys
    out = Shape(v.c, (*batch, length), layout="last")
    return Result(out, Counts(macs=scores * (q.c + v.c), elementwise=3 * scores,
                              activations=out.numel))


def _attention_parts(inputs, attrs) -> dict:
    """What tools count of a self-attention layer beside its MACs: ``projections`` (the q,
    k, v and output projections' MACs, 4·L·D² per sequence), ``scores`` (one of the two
    matmuls, L²·D), ``heads_scores`` (the attention weights, heads·L²: what a softmax over
    them touches) and ``traced_sizes``, the 4 multiplications of sizes (bsz·num_heads for
    q, k and v; tgt_len·bsz) that torch.jit records in F.multi_head_attention_forward."""
    x = inputs[0]
    width, heads = x.c, attrs["heads"]
    batch, length = tokens_of(x)
    per_token = batch * length
    return {"projections": per_token * 4 * width * width,
            "scores": per_token * length * width,
            "heads_scores": batch * heads * length * length,
            "traced_sizes": 4 + 0 * per_token}


@op("mhsa", attr("heads", "positive int"), attr("bias", "flag", 1),
    category="multiply-accumulate", display="attention",
    torch=Torch("nn.MultiheadAttention", modern_form("self_attention")),
    onnx=Onnx((), note="exporters write the projections as MatMul/Gemm and the attention as "
                       "MatMul, Softmax, MatMul (read as linear, matmul and softmax layers)"),
    memory=Memory(), quantities=_attention_parts)
def multi_head_self_attention(x: Shape, heads, bias) -> Result:
    """Multi-head self-attention over a sequence of L tokens of D = C features in ``heads``
    heads (``nn.MultiheadAttention(D, heads)`` called as ``attn(x, x, x)``): the last size
    of a token tensor (the sizes before it are independent batches: windows), every
    position of a channels-first map. MACs = batch·(4·L·D² + 2·L²·D): the q, k, v and
    output projections, then q·kᵀ and the weights times v. Params = 4·D² (+ 4·D with
    bias)."""
    check_divides(heads, x.c, "attention")
    batch, length = tokens_of(x)
    width = x.c
    macs = batch * (4 * length * width * width + 2 * length * length * width)
    return Result(x, Counts(macs=macs, elementwise=3 * batch * heads * length * length,
                            weights=4 * width * width + (4 * width if bias else 0),
                            activations=x.numel), "attention")


def _downsampled(x: Shape, kv_stride, k) -> Shape:
    """The key/value map after MQA's k×k stride-s depthwise down-sampling (timm's symmetric
    padding ((s − 1) + (k − 1)) // 2)."""
    if kv_stride == 1:
        return x
    pad = ((kv_stride - 1) + (k - 1)) // 2
    return Shape(x.c, tuple(out_size(side, k, kv_stride, pad) for side in x.sizes))


def _mqa_parts(inputs, attrs) -> dict:
    """What tools count of a Mobile MQA layer beside its MACs: ``convs`` (the MACs of its
    convolutions, what hook-based tools see), ``kv_norm`` (the 2·M·C elements its two batch
    norms read with a kv stride, else 0) and ``query`` (the N·h·dk scaled query elements,
    ``q * scale``, one aten::mul)."""
    x = inputs[0]
    heads, key_dim, value_dim = attrs["heads"], attrs["key_dim"], attrs["value_dim"]
    kv = _downsampled(x, attrs["kv_stride"], attrs["k"])
    n, m = x.positions, kv.positions
    attention = heads * n * m * (key_dim + value_dim)
    total = multi_query_attention(x, heads, key_dim, value_dim, attrs["kv_stride"],
                                  attrs["k"], attrs.get("c")).counts.macs
    return {"convs": total - attention,
            "kv_norm": 2 * m * x.c if attrs["kv_stride"] != 1 else 0 * m,
            "query": n * heads * key_dim}


@op("mqa", attr("heads", "positive int"), attr("key_dim", "positive int"),
    attr("value_dim", "positive int"), attr("kv_stride", "positive int", 1),
    attr("k", "positive int", 3), attr("c", "channels", None),
    category="multiply-accumulate", display="mqa",
    torch=Torch("MultiQueryAttention2d", modern_form("mqa")),
    onnx=Onnx((), note="exporters write its convolutions as Conv and the attention as "
                       "MatMul, Softmax, MatMul"),
    memory=Memory(), quantities=_mqa_parts)
def multi_query_attention(x: Shape, heads, key_dim, value_dim, kv_stride, k, c) -> Result:
    """MobileNetV4's Mobile MQA on a C×H×W map (arXiv 2404.10518 Eq. 2; timm's
    ``MultiQueryAttention2d`` without query strides): ``heads`` query heads of ``key_dim``
    by a 1×1 conv; one key and one value head shared by all (1×1 convs to ``key_dim`` and
    ``value_dim``), each first down-sampled to M = H'·W' positions by a k×k stride
    ``kv_stride`` depthwise conv and a BN when ``kv_stride`` > 1; the heads concatenated and
    projected by a 1×1 conv to ``c`` channels (default C). With N = H·W:
    MACs = N·C·h·dk + [2·M·C·k²] + M·C·(dk + dv) + h·N·M·(dk + dv) + N·h·dv·c.
    Params = C·h·dk + C·(dk + dv) + h·dv·c [+ 2·C·k²]; the two BNs' 4·C scale and shift
    are batch-norm parameters."""
    if x.layout != "first" or x.rank != 2:
        raise CostModelError(f"mqa attends over a channels-first image (C×H×W); got {x}")
    c = x.c if c is None else c
    kv = _downsampled(x, kv_stride, k)
    n, m = x.positions, kv.positions
    down = kv_stride != 1
    macs = n * x.c * heads * key_dim + m * x.c * (key_dim + value_dim) + \
        heads * n * m * (key_dim + value_dim) + n * heads * value_dim * c
    weights = x.c * heads * key_dim + x.c * (key_dim + value_dim) + heads * value_dim * c
    if down:
        macs += 2 * m * x.c * k * k
        weights += 2 * x.c * k * k
    out = Shape(c, x.sizes)
    elementwise = 3 * heads * n * m + (4 * m * x.c if down else 0)
    return Result(out, Counts(macs=macs, elementwise=elementwise,
                              weights=weights, norm_params=4 * x.c if down else 0 * x.c,
                              activations=out.numel), "mqa")
