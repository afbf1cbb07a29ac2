"""The counting tools' rules for the newer ops (core/ops_modern.py, ops_tokens.py,
ops_attention.py): each tool's named exceptions, by op and by PyTorch call, merged into the
tools of :mod:`.conventions` (the rule language is its: sums of counted quantities).

Read from the tools' sources at the versions :mod:`.conventions` names, and checked against
the tools themselves in tests/test_tool_conventions_modern.py. Where a tool's rule for the
op's category already holds it is not repeated here (a transposed convolution is
``macs + bias`` in ptflops as a convolution is; a permute, view or index is free everywhere).

Attention deserves a word: torch's FlopCounterMode (torch 2.13, CPU), in eval mode under
``no_grad()``, sees ``nn.MultiheadAttention`` run its fused kernel
(``torch._native_multi_head_attention``: none of it counted) or, where that kernel does not
apply, SDPA on 4-D tensors run as CPU flash attention (its matmuls not counted). The
``torch`` convention counts attention's matmuls, as the same counter reports them with
gradients enabled and SDPA's math backend; ``count_torch`` measures so and says it.
"""

from __future__ import annotations

Rule = tuple[str | None, str]


def _zero(why: str) -> Rule:
    return ("0", why)


_INTERPOLATE = ("F.interpolate",)

FVCORE_CALLS: dict[str, Rule] = {
    "torch.einsum": ("einsum_path", "einsum_flop_jit: numpy's einsum_path optimized FLOP count "
                                    "as printed (4 digits), halved (its two bmm-shaped "
                                    "equations, abc,abd->acd and abc,adc->adb, are exact)"),
}

FVCORE_OPS: dict[str, Rule] = {
    "layernorm": ("4 input + affine", "aten::layer_norm: norm_flop_counter, 5 per element with "
                                      "the affine, 4 without ('a rough estimate')"),
    "groupnorm": ("4 input + affine", "aten::group_norm: norm_flop_counter, as layer_norm"),
    "rmsnorm": _zero("aten::rms_norm: unsupported, skipped"),
    "sdpa": _zero("aten::scaled_dot_product_attention: unsupported, skipped"),
    "mhsa": ("projections", "the projections' aten::linear only; the attention runs as "
                            "aten::scaled_dot_product_attention, unsupported"),
    "mqa": ("macs + 2 kv_norm", "its convolutions and matmuls; aten::batch_norm 2 per "
                                "element"),
    "upsample_nearest": ("output", "aten::upsample_nearest2d: elementwise_flop_counter(0, 1)"),
    "upsample_bilinear": ("4 output", "aten::upsample_bilinear2d: elementwise_flop_counter(0, "
                                      "4)"),
}

THOP_OPS: dict[str, Rule] = {
    "layernorm": ("2 input + 2 affine", "count_normalization: 2 per element, doubled with the "
                                        "affine (nn.LayerNorm's elementwise_affine)"),
    "groupnorm": _zero("no rule for nn.GroupNorm in 0.1.1"),
    "rmsnorm": _zero("no rule for nn.RMSNorm"),
    "softmax": ("2 input + sums", "count_softmax: exp, add, div per element of the softmax "
                                  "axis, (3C - 1) per position"),
    "matmul": _zero("a functional call: no hook"),
    "sdpa": _zero("a functional call: no hook"),
    "mhsa": _zero("no rule for nn.MultiheadAttention: zero, and no parameters"),
    "mqa": ("convs + 4 kv_norm", "its nn.Conv2d and nn.BatchNorm2d hooks; the matmuls are "
                                 "operators"),
    "convtranspose": ("as_conv", "count_convNd: the output's elements × Cin/g × K, as a "
                                 "convolution"),
    "upsample_nearest": ("output", "count_upsample, nearest: 1 per output element"),
    "upsample_bilinear": ("11 output", "count_upsample, bilinear: 11 per output element"),
}
THOP_CALLS: dict[str, Rule] = {
    "F.layer_norm": _zero("a functional call: no hook"),
    **{call: _zero("a functional call or tensor method: no hook")
       for call in ("F.softmax", "torch.softmax", "Tensor.softmax", "F.linear",
                    *_INTERPOLATE)},
}
#: thop's modules whose parameters() it reports (profile.py register_hooks), beside the
#: classic ones; MultiQueryAttention2d's are those of its hooked Conv2d and BatchNorm2d
THOP_HOOKED = frozenset({"nn.LayerNorm", "nn.ConvTranspose1d", "nn.ConvTranspose2d",
                         "nn.ConvTranspose3d", "MultiQueryAttention2d"})

PTFLOPS_OPS: dict[str, Rule] = {
    "groupnorm": ("input + affine", "bn_flops_counter_hook: 1 per element, 2 when affine"),
    "rmsnorm": _zero("no hook for nn.RMSNorm, F.rms_norm not patched"),
    "softmax": ("input", "the patched F.softmax: 1 per element"),
    "sdpa": _zero("F.scaled_dot_product_attention is not patched"),
    "mhsa": ("projections + 2 scores + heads_scores + 2 input + 3 bias",
             "multihead_attention_counter_hook: q scaling, projections, in-projection bias, "
             "per head q·kᵀ, softmax and the weights times v, then the output projection "
             "with its bias 'always enabled'"),
    "mqa": ("convs + 2 kv_norm", "conv and bn hooks; `@` is not the patched torch.matmul"),
    "upsample_nearest": ("2 output", "upsample_flops_counter_hook, and nn.Upsample calls the "
                                     "patched F.interpolate: twice"),
    "upsample_bilinear": ("2 output", "upsample_flops_counter_hook (1 per output element), and "
                                      "the patched F.interpolate: twice"),
}
PTFLOPS_CALLS: dict[str, Rule] = {
    "nn.LayerNorm": ("input", "bn_flops_counter_hook: 1 per element (nn.LayerNorm has no "
                              "`affine` attribute, so never 2)"),
    "F.layer_norm": _zero("not patched"),
    "nn.GELU": ("input + output", "relu hook, and nn.GELU calls the patched F.gelu: twice"),
    "F.gelu": ("input", "patched: 1 per element"),
    **{call: _zero("not patched (only F.softmax is)") for call in ("torch.softmax",
                                                                   "Tensor.softmax")},
    "F.interpolate": ("output", "patched: 1 per output element"),
    "@": _zero("the operator is not the patched torch.matmul"),
    "torch.einsum": _zero("not patched"),
    "F.linear": _zero("not patched: only the nn.Linear hook counts a linear layer"),
}

PTFLOPS_ATEN_OPS: dict[str, Rule] = {
    "linear": ("macs", "on a token tensor aten.linear runs as a matmul and an add, not "
                       "aten.addmm: no bias counted"),
    "mhsa": ("projections + bias", "the fused path's projections: the output projection as "
                                   "aten.addmm with its bias, the input projection as a "
                                   "matmul without"),
}

TORCHPROFILE_OPS: dict[str, Rule] = {
    "layernorm": ("affine", "aten::layer_norm: 1 per output element with the affine, else 0"),
    "groupnorm": ("affine", "aten::group_norm: as layer_norm"),
    "rmsnorm": _zero("aten::rms_norm: no handler, skipped"),
    "mhsa": ("macs + traced_sizes", "aten::linear and aten::matmul/bmm of the traced "
                                   "forward, and aten::mul of 4 traced sizes (1 each)"),
    "mqa": ("macs + kv_norm + query", "its convolutions and matmuls; aten::batch_norm 1 per "
                                      "element; aten::mul of the scaled query"),
    "convtranspose": ("dense_taps", "aten::_convolution read as a convolution: output "
                                    "elements × the weight's input channels × K"),
    "upsample_bilinear": ("4 output", "aten::upsample_bilinear2d: 4 per output element"),
    "layerscale": ("output", "aten::mul: 1 per output element"),
}

CALFLOPS_OPS: dict[str, Rule] = {
    "sdpa": _zero("not patched"),
    "mhsa": ("projections", "the projections' F.linear; the attention is not patched"),
    "mqa": ("convs", "F.conv2d; `@` is not the patched torch.matmul"),
    "convtranspose": ("groups_twice", "_conv_trans_flops_compute: the weight's c/g output "
                                      "channels divided by the groups again"),
}
CALFLOPS_CALLS: dict[str, Rule] = {
    **{call: _zero("not patched") for call in ("torch.bmm", "Tensor.bmm", "torch.einsum",
                                                "@")},
}

#: tool name -> (ops, calls) exceptions for the newer ops
EXCEPTIONS: dict[str, tuple[dict[str, Rule], dict[str, Rule]]] = {
    "fvcore": (FVCORE_OPS, FVCORE_CALLS),
    "thop": (THOP_OPS, THOP_CALLS),
    "ptflops": (PTFLOPS_OPS, PTFLOPS_CALLS),
    "ptflops-aten": (PTFLOPS_ATEN_OPS, {}),
    "torchprofile": (TORCHPROFILE_OPS, {}),
    "calflops": (CALFLOPS_OPS, CALFLOPS_CALLS),
}
