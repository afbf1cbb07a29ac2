"""ONNX nodes of partitioned attention (MaxViT) to costmodel's ops, mixed into the translator
over the handlers of :mod:`.onnx_ops_windows`.

torch.onnx's export of torchvision's MaxViT writes its attention as ``Einsum`` nodes
(``"B G H I D, B G H J D -> B G H I J"``: q·kᵀ, then the weights times v) on tensors of
five axes, and moves between its channels-first convolutions and its partitioned tokens with
``Reshape, Transpose(0, 5, 1, 3, 2, 4), Reshape``. Here:

* ``Einsum`` of two computed tensors whose equation is a batched matrix product is
  ``matmul``, its letters grouped as torch's einsum rule groups them
  (frontends/torch_rules_tensors.py): batch (in both operands and the output), K (in both,
  summed), M (the first and the output) and N (the second and the output), so MACs =
  batch·M·K·N as count_torch counts it. The equation is the file's text: it is read only
  when it is short (``limits.MAX_EINSUM_EQUATION_CHARS``) and made of letters, commas, spaces,
  one ``->`` and ``...``; anything else is refused with an error naming the node. A
  well-formed equation that is no such product (one operand, three, an index summed within
  one operand, a diagonal, an ellipsis, an implicit output) stays an uncounted node, listed;
* a ``Transpose`` of tokens that puts the features on axis 1 (the departition back to
  N×C×H×W, whatever order the other axes take) makes a channels-first map again: free data
  movement, after which the convolutions and batch norms read it;
* ``LayerNormalization`` of an N×F vector (MaxViT's head, after the pool and the flatten) is
  ``layernorm`` over its F features.
"""

from __future__ import annotations

import math

from sympy import Integer

from ..core.ops import Shape
from ..errors import CostModelError
from ..limits import excerpt
from ..safe_io import printable
from .onnx_einsum import MalformedEquation, contraction, split_equation
from .onnx_ops import Feature
from .onnx_ops_windows import WindowHandlers


class AttentionHandlers(WindowHandlers):
    """The handlers of the module docstring."""

    def op_Einsum(self, node):
        names = [n for n in node.input]
        ranks = [len(d) if (d := self.known(n)) is not None else None for n in names]
        try:
            terms, out = split_equation(self.attr(node, "equation", None), len(names), ranks)
        except MalformedEquation as exc:
            shown = printable(excerpt(str(self.attr(node, "equation", ""))), 80)
            raise CostModelError(f"{self.path}: node {self.label(node)}: {exc} ('{shown}'); "
                                 f"refused") from None
        found = contraction(terms, out)
        if isinstance(found, str):
            return found
        if not all(isinstance(self.state.get(n), Feature) for n in names):
            return "not a product of two computed tensors"
        dims = [self.known(n) for n in names]
        if None in dims:
            return "dims unknown"
        sizes: dict[str, int] = {}
        for term, shape in zip(terms, dims):
            for letter, size in zip(term, shape):
                if sizes.setdefault(letter, size) != size:
                    return f"axis {letter} of sizes {sizes[letter]} and {size}"
        a, b = (names[1], names[0]) if found.swapped else (names[0], names[1])
        batch, m, k, n = (math.prod(sizes[c] for c in group)
                          for group in (found.batch, found.m, found.k, found.n))
        lead = (Integer(batch),) if batch != 1 else ()
        left = Shape(Integer(k), (*lead, Integer(m)), producer=self.producer(a) or "",
                     layout="last")
        right = Shape(Integer(n), (*lead, Integer(k)), producer=self.producer(b) or "",
                      layout="last")
        self.emit_tokens(node, "matmul", [left, right], {})
        return True

    def op_Transpose(self, node):
        state, dims = self.state.get(node.input[0]), self.known(node.input[0])
        perm = [int(p) for p in self.attr(node, "perm", [])]
        out = self.known(node.output[0])
        if isinstance(state, Feature) and state.shape.layout == "last" and dims and out \
                and len(dims) >= 4 and dims[0] == 1 and perm[:2] == [0, len(dims) - 1] \
                and sorted(perm) == list(range(len(dims))) \
                and perm != [0, len(dims) - 1, *range(1, len(dims) - 1)]:
            # the features to axis 1, the other axes reordered (a departition): a map again
            self.moved[node.op_type] += 1
            x = state.shape
            return self.alias(node, node.output[0],
                              Feature(Shape(Integer(out[1]), tuple(map(Integer, out[2:])),
                                            producer=x.producer)))
        return super().op_Transpose(node)

    def op_LayerNormalization(self, node):
        x, dims = self.feature(node.input[0]), self.known(node.input[0])
        if x is not None and x.layout == "first" and dims is not None and len(dims) == 2 \
                and dims[0] == 1 and int(self.attr(node, "axis", -1)) % 2 == 1:
            return self.emit_layernorm(node, x)
        return super().op_LayerNormalization(node)
