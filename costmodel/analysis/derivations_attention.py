"""The attention derivations of ``costmodel derive``: what self-attention costs over an H×W
map, where it overtakes a convolution, and what Mobile MQA saves against multi-head attention.

Built, as :mod:`.derivations` builds the convolution ones, from the registered primitives
(``mhsa`` and ``mqa`` in :mod:`costmodel.core.ops_attention`) on a symbolic C×H×W map: the
closed forms are what the layers count, checked against the formulas the papers print.

Self-attention over the L = H·W positions of a map (MobileViT, MobileNetV4's hybrids and the
last stages of hybrid networks attend over every position; ViT over its patches) costs
``4·L·C²`` for the q, k, v and output projections and ``2·L²·C`` for the two matmuls
(q·kᵀ and the weights times v): quadratic in the number of tokens, so in H²·W², where a
convolution is linear in H·W.
"""

from __future__ import annotations

import sympy
from sympy import Integer, Symbol

from ..core import symbols as S
from ..core.ops import Shape
from .derivation import Derivation, Quantity
from .derivation import symbols_of as _symbols
from .derivations import _Chain, derivation, same

VASWANI = "Vaswani et al., Attention Is All You Need, arXiv 1706.03762, §3.2 and Table 1"
MOBILENET_V4 = ("Qin et al., MobileNetV4: Universal Models for the Mobile Ecosystem, "
                "arXiv 2404.10518, §4 (Mobile MQA)")

H, W, C, h, dk = S.H, S.W, S.C, S.h, S.d_k


def _attention_chain() -> _Chain:
    chain = _Chain(Shape.image(C, H, W))
    chain("attention", "mhsa", heads=h, bias=0)
    return chain


@derivation("attention")
def _attention() -> Derivation:
    chain = _attention_chain()
    tokens = H * W
    conv = _Chain(Shape.image(C, H, W))
    conv("conv 3×3", "conv", c=C, k=3, p=same(Integer(3)))
    # where attention's MACs equal a 3×3 conv's C → C over the same map: 2·L²·C = 5·L·C²,
    # solved from the layers' counts (in the tokens L, then in the side of a square map)
    L = Symbol("L", positive=True)
    at_tokens = _positive_root(sympy.expand(chain.macs - conv.macs).subs(H, L / W), L)
    side = _positive_root(sympy.expand(chain.macs - conv.macs).subs(W, H), H)
    return Derivation(
        "attention", "multi-head self-attention over an H×W map (L = H·W tokens of C features)",
        VASWANI, sympy.expand(chain.macs), 4 * H * W * C**2 + 2 * H**2 * W**2 * C,
        extras=(Quantity("params", chain.params, 4 * C**2),
                Quantity("quadratic term", sympy.expand(chain.macs - 4 * tokens * C**2),
                         2 * tokens**2 * C),
                Quantity("÷ conv 3×3", sympy.cancel(chain.macs / conv.macs),
                         (4 * C + 2 * tokens) / (9 * C)),
                Quantity("tokens at which it overtakes a 3×3 conv", at_tokens,
                         sympy.Rational(5, 2) * C),
                Quantity("side at which it overtakes (H = W)", side,
                         sympy.sqrt(sympy.Rational(5, 2) * C))),
        symbols=_symbols(chain.macs), steps=chain.record(),
        explanation="Each of the L = H·W tokens is projected to q, k and v and back (4·L·C² "
                    "MACs: four C×C matrices), and every token attends to every other: q·kᵀ "
                    "and the weights times v are L·L·C MACs each, whatever the number of "
                    "heads h (they split C). The 2·L²·C term is quadratic in H·W: a 3×3 "
                    "convolution C → C costs 9·L·C², so attention costs more once "
                    "L > 5·C/2 tokens (a 20×20 map at C = 160, 40×40 at C = 640).",
        assumptions=("self-attention over every position (no windows, no key/value "
                     "down-sampling); projections without bias; C divisible by h",))


def _positive_root(expr: sympy.Expr, symbol: Symbol) -> sympy.Expr:
    """The one positive root of ``expr`` = 0 in ``symbol`` (the crossover)."""
    roots = [r for r in sympy.solve(expr, symbol) if r.is_positive]
    if len(roots) != 1:
        raise AssertionError(f"expected one positive crossover, got {roots}")
    return roots[0]


@derivation("mqa_vs_mhsa")
def _mqa_vs_mhsa() -> Derivation:
    x = Shape.image(C, H, W)
    mha = _Chain(x)
    mha("multi-head attention", "mhsa", heads=h, bias=0)
    mqa = _Chain(x)
    mqa("Mobile MQA", "mqa", heads=h, key_dim=dk, value_dim=dk, c=C)
    # the comparison the paper makes: h heads of d_k = C/h features each
    ratio = sympy.cancel(mqa.macs.subs(dk, C / h) / mha.macs)
    tokens = H * W
    return Derivation(
        "mqa_vs_mhsa", "Mobile MQA against multi-head self-attention (h heads, d_k = C/h)",
        MOBILENET_V4, sympy.factor(ratio),
        (2 * C * (h + 1) / h + 2 * tokens) / (4 * C + 2 * tokens), quantity="MACs ratio",
        extras=(Quantity("MQA MACs", sympy.expand(mqa.macs),
                         tokens * C * h * dk + tokens * C * 2 * dk + 2 * h * tokens**2 * dk
                         + tokens * h * dk * C),
                Quantity("MHSA MACs", sympy.expand(mha.macs),
                         4 * tokens * C**2 + 2 * tokens**2 * C),
                Quantity("params ratio", sympy.cancel(mqa.params.subs(dk, C / h) / mha.params),
                         (h + 1) / (2 * h)),
                Quantity("projections ratio (L ≪ C)",
                         sympy.cancel(ratio.subs(H, 0)), (h + 1) / (2 * h))),
        symbols=_symbols(ratio), steps=(*mha.record(), *mqa.record()),
        explanation="Multi-query attention keeps h query heads but shares one key and one "
                    "value head of d_k features among them (Shazeer 2019; MobileNetV4 §4): the "
                    "k and v projections shrink from C×C to C×d_k. With d_k = C/h the four "
                    "projections cost 2·L·C²·(h + 1)/h instead of 4·L·C², a factor "
                    "(h + 1)/(2h) (5/8 at h = 4), and the parameters shrink by the same "
                    "factor; the attention matmuls (2·L²·C) are unchanged, so the saving "
                    "fades as the tokens outnumber the channels. MobileNetV4 adds a stride-2 "
                    "key/value down-sampling (kv_stride=2) that divides the matmuls by 4.",
        assumptions=("no key/value down-sampling (kv_stride = 1), d_v = d_k; MHSA without "
                     "bias",))
