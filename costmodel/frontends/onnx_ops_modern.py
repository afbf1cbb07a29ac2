"""ONNX nodes of the newer networks (ConvNeXt, ViT) to costmodel's newer ops, mixed into the
translator over the classic handlers of :mod:`.onnx_ops`.

Tensors that are not a channels-first map are read as tokens, from their ONNX dims: the
last axis is the features (``c``), the axes before it the sizes (a leading batch of 1
dropped), ``Shape(D, (…), "last")``. Then:

* MatMul or Gemm by a constant 2-D weight on tokens is ``linear`` (an Add of a constant
  vector after it is its bias); MatMul of two computed tensors is ``matmul``, batch axes
  broadcast (attention's q·kᵀ and weights·v);
* LayerNormalization over the last axis is ``layernorm``; Softmax over it ``softmax``;
  Gelu (opset 20), or the Div, Erf, Add, Mul, Mul chain older opsets write, one ``gelu``;
* Transpose of a map to channels last and back is ``channels_last``/``channels_first``, a
  Reshape of N×C×H×W to N×C×(H·W) ``merge_positions``; every other Reshape, Transpose,
  Flatten, Squeeze, Unsqueeze, Gather, Slice or Concat of tokens is free data movement
  (listed in a note);
* a Concat of a constant (an initializer, expanded) before tokens is ``cls_token`` (its
  params); an Add of a constant of the tokens' size is ``pos_embed`` (its params); a Mul by
  a constant of C numbers is ``layerscale`` (its params); a Mul or Div by one constant
  number (attention's scaling) is elementwise work, no MACs (listed in a note).
"""

from __future__ import annotations

import math

from sympy import Integer

from ..core.ops import Shape
from . import onnx_dims
from .onnx_ops import CONST, Feature, OpHandlers, Opaque

#: Classic handlers that read a channels-first map only.
_FIRST_ONLY = frozenset({"Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
                         "GlobalMaxPool", "BatchNormalization", "ReduceMean", "LRN", "Split",
                         "ConvTranspose", "Resize"})
#: Ops that make a constant from one initializer without changing its values' count much:
#: the class token expanded to the batch, a weight reshaped.
_CARRIES = frozenset({"Identity", "Expand", "Reshape", "Unsqueeze", "Squeeze", "Cast",
                      "Transpose"})


def token_shape(dims: list[int], producer: str) -> Shape:
    """A tensor's ONNX dims as costmodel's Shape: N×F (N = 1) is the F×1×1 vector of an FC
    layer; anything else tokens, ``Shape(dims[-1], middle, "last")``."""
    if len(dims) == 2 and dims[0] == 1:
        return Shape.image(Integer(dims[1]), Integer(1), Integer(1), producer=producer)
    sizes = dims[1:-1] if len(dims) > 2 and dims[0] == 1 else dims[:-1]
    return Shape(Integer(dims[-1]), tuple(map(Integer, sizes)), producer=producer,
                 layout="last")


class ModernHandlers(OpHandlers):
    """The handlers of the module docstring (the translator provides ``dims``, ``state``,
    ``emit``, ``alias``, ``value``...)."""

    # --- the translator's hooks ---------------------------------------------------------------

    def fill_dims(self, node) -> None:
        """Dims of ``node``'s output that shape inference left unknown (:mod:`.onnx_dims`)."""
        if not node.output or not node.output[0]:
            return
        known = self.dims.get(node.output[0])
        if known is not None and all(isinstance(d, int) for d in known):
            return
        found = onnx_dims.infer(node, self._exact_dims, self.value,
                                lambda k, d: self.attr(node, k, d))
        if found is not None and all(isinstance(d, int) and d >= 0 for d in found):
            self.dims[node.output[0]] = found

    def note_origin(self, node) -> None:
        """For a constant made from one initializer (Identity, Expand...), that initializer."""
        if node.op_type in _CARRIES and node.input and node.input[0]:
            source = self.alias_of.get(node.input[0], node.input[0])
            source = self.origin.get(source, source)
            if source in self.initializers:
                for output in node.output:
                    self.origin[output] = source

    def refuses(self, node) -> str | None:
        """Why a classic handler cannot read this node: a channels-first op on tokens."""
        if node.op_type in _FIRST_ONLY and any(
                isinstance(self.state.get(n), Feature) and self.state[n].shape.layout == "last"
                for n in node.input if n):
            return "a channels-first op on a channels-last (token) tensor"
        return None

    def absorbed_node(self, index: int) -> bool:
        return index in self.absorbed

    def modern_notes(self) -> tuple[str, ...]:
        out = []
        if self.moved:
            out.append("Free data movement on tokens (no arithmetic, not counted): "
                       + ", ".join(f"{op} ×{n}" for op, n in sorted(self.moved.items())) + ".")
        if self.scaled:
            out.append(f"Multiplications and divisions by one constant number (attention's "
                       f"scaling): elementwise work, no MACs or params: {self.scaled}.")
        if self.erf_gelus:
            out.append(f"Div, Erf, Add, Mul, Mul chains read as one GELU each: "
                       f"{self.erf_gelus}.")
        return tuple(out)

    # --- helpers ------------------------------------------------------------------------------

    def _exact_dims(self, tensor: str) -> list[int] | None:
        dims = self.dims.get(tensor)
        if dims is not None and all(isinstance(d, int) for d in dims):
            return dims  # [] for a scalar
        return self.tensor_dims(tensor)

    def known(self, tensor: str) -> list[int] | None:
        dims = self.dims.get(tensor)
        return dims if dims and all(isinstance(d, int) for d in dims) else None

    def tokens(self, tensor: str) -> Shape | None:
        """The token Shape of a computed tensor, or None for anything else."""
        state = self.state.get(tensor)
        if isinstance(state, Feature) and state.shape.layout == "last":
            return state.shape
        return None  # a channels-first map's last axis is its width, not its features

    def moves(self, node, output: str | None = None) -> bool:
        """Free data movement: the output is read from its dims, from the same producer."""
        output = output or node.output[0]
        dims = self.known(output)
        state = next((self.state[n] for n in node.input
                      if isinstance(self.state.get(n), Feature)), None)
        if dims is None or state is None:
            return False
        self.moved[node.op_type] += 1
        return self.alias(node, output, Feature(_layout_of(dims, state.shape)))

    def emit_tokens(self, node, op: str, inputs, attrs, weights=()) -> Shape:
        """``emit``, with the output's state read back from its ONNX dims."""
        shape = self.emit(node, op, inputs, attrs, node.output[0], weights=weights)
        dims = self.known(node.output[0])
        if dims is not None:
            self.state[node.output[0]] = Feature(_layout_of(dims, shape))
        return shape

    def _constant_numel(self, tensor: str) -> int | None:
        dims = self.dims.get(tensor)
        if dims is not None and all(isinstance(d, int) for d in dims):
            return math.prod(dims)  # a scalar's dims are []
        values = self.value(tensor)
        return None if values is None else len(values)

    # --- contractions -------------------------------------------------------------------------

    def op_MatMul(self, node):
        a, b = node.input[:2]
        adims, bdims = self.known(a), self.known(b)
        if adims is None or bdims is None:
            return "dims unknown"
        if self.state.get(b) == CONST and len(bdims) == 2:
            if len(adims) == 2 and adims[0] == 1:
                return super().op_MatMul(node)
            x = self.tokens(a)
            if x is None or x.c != bdims[0]:
                return "not a linear layer: the weight does not fit the last axis"
            self.emit_tokens(node, "linear", [x], dict(c=bdims[1], bias=0), weights=(b,))
            self.fc_from_matmul[node.output[0]] = len(self.layers) - 1
            return True
        if CONST in (self.state.get(a), self.state.get(b)) or min(len(adims), len(bdims)) < 2:
            return "not a product of two computed tensors of two axes or more"
        left, right = _operand(adims), _operand(bdims)
        self.emit_tokens(node, "matmul", [left, right], {})
        return True

    def op_Gemm(self, node):
        x = self.tokens(node.input[0])
        if x is None or x.layout != "last":
            return super().op_Gemm(node)
        weight, wdims = node.input[1], self.known(node.input[1])
        if self.state.get(weight) != CONST or wdims is None or len(wdims) != 2 \
                or self.attr(node, "transA", 0):
            return "not a linear layer with constant weights"
        out, features = wdims if self.attr(node, "transB", 0) else wdims[::-1]
        if features != x.c:
            return f"weight {wdims} does not fit {x.c} features"
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else ""
        self.emit_tokens(node, "linear", [x], dict(c=out, bias=1 if bias else 0),
                         weights=(weight, bias))
        return True

    # --- norms and activations ----------------------------------------------------------------

    def op_LayerNormalization(self, node):
        x, dims = self.tokens(node.input[0]), self.known(node.input[0])
        if x is None or dims is None or int(self.attr(node, "axis", -1)) % len(dims) \
                != len(dims) - 1:
            return "not a norm over the last axis of tokens"
        return self.emit_layernorm(node, x)

    def emit_layernorm(self, node, x: Shape) -> bool:
        """A LayerNormalization node over ``x``'s features as ``layernorm``, its scale and
        shift (inputs 2 and 3, either may be absent) its weights."""
        scale, bias = (node.input[i] if len(node.input) > i and node.input[i] else ""
                       for i in (1, 2))
        self.emit_tokens(node, "layernorm", [x], dict(affine=1 if scale else 0,
                                                      bias=1 if bias else 0),
                         weights=(scale, bias))
        return True

    def op_Softmax(self, node):
        state, dims = self.state.get(node.input[0]), self.known(node.input[0])
        if not isinstance(state, Feature) or dims is None:
            return "not on a known tensor"
        axis = int(self.attr(node, "axis", -1)) % len(dims)
        if state.shape.layout == "first" and axis == 1:  # over the channels of a map
            self.emit(node, "softmax", [state.shape], {}, node.output[0])
            return True
        x = self.tokens(node.input[0])
        if x is None or axis != len(dims) - 1:
            return "not a softmax over the channels or the last axis"
        self.emit_tokens(node, "softmax", [x], {})
        return True

    def op_Gelu(self, node):
        x = self.feature(node.input[0])
        if x is None:
            return "not on a feature map"
        self.emit_tokens(node, "gelu", [x], {})
        return True

    def op_Div(self, node):
        chain = self._erf_gelu(node)
        if chain is not None:
            x = self.feature(node.input[0])
            self.absorbed.update(chain)
            last = self.graph.node[chain[-1]]
            self.emit(node, "gelu", [x], {}, last.output[0])
            self.erf_gelus += 1
            return True
        a, b = node.input[:2]
        if isinstance(self.state.get(a), Feature) and self._constant_numel(b) == 1:
            return self._scaled(node, a)
        return None  # listed by its op type alone, as before Div had a handler

    def _erf_gelu(self, node) -> list[int] | None:
        """The nodes after this Div of x·(1 + erf(x/√2))·½ (Erf, Add, Mul, Mul: the two
        Muls by x and by ½ in either order), or None."""
        x = node.input[0]
        if self.feature(x) is None or self._constant_numel(node.input[1]) != 1:
            return None
        chain, tensor, halves = [], node.output[0], []
        for op in ("Erf", "Add", "Mul", "Mul"):
            readers = self.consumers.get(tensor, [])
            if len(readers) != 1 or self.graph.node[readers[0]].op_type != op:
                return None
            following = self.graph.node[readers[0]]
            others = [n for n in following.input if n != tensor]
            if op == "Add" and not (len(others) == 1 and self._constant_numel(others[0]) == 1):
                return None
            if op == "Mul":
                if len(others) != 1:
                    return None
                halves.append("x" if others[0] == x else
                              "½" if self._constant_numel(others[0]) == 1 else "?")
            chain.append(readers[0])
            tensor = following.output[0]
        return chain if sorted(halves) == ["x", "½"] else None

    def _scaled(self, node, feature: str):
        self.scaled += 1
        return self.alias(node, node.output[0], self.state[feature])

    # --- element-wise with learned tensors ----------------------------------------------------

    def op_Add(self, node):
        found = super().op_Add(node)
        if found is True:
            return True
        feature, other = _feature_and_constant(self, node)
        if feature is None:
            return found
        x, size = self.state[feature].shape, self._constant_numel(other)
        source = self.origin.get(other, other)
        if size == x.numel and source in self.initializers:
            self.emit_tokens(node, "pos_embed", [x], {}, weights=(source,))
            return True
        return found

    def op_Mul(self, node):
        feature, other = _feature_and_constant(self, node)
        if feature is None:
            return super().op_Mul(node)
        x, size = self.state[feature].shape, self._constant_numel(other)
        if size == 1:
            return self._scaled(node, feature)
        source = self.origin.get(other, other)
        if size == x.c and source in self.initializers:
            self.emit_tokens(node, "layerscale", [x], {}, weights=(source,))
            return True
        return "multiplies by a constant"

    # --- data movement ------------------------------------------------------------------------

    def op_Transpose(self, node):
        state = self.state.get(node.input[0])
        if isinstance(state, Opaque):
            return super().op_Transpose(node)
        dims, perm = self.known(node.input[0]), list(self.attr(node, "perm", []))
        if not isinstance(state, Feature) or dims is None:
            return "not on a known tensor"
        rank, x = len(dims), state.shape
        if x.layout == "first" and rank >= 3 and perm == [0, *range(2, rank), 1] \
                and dims[1:] == [x.c, *x.sizes]:
            self.emit_tokens(node, "channels_last", [x], {})
            return True
        if x.layout == "last" and rank >= 3 and perm == [0, rank - 1, *range(1, rank - 1)] \
                and dims[0] == 1:
            shape = self.emit(node, "channels_first", [x], {}, node.output[0])
            return bool(shape)
        return self.moves(node) or "output dims unknown"

    def op_Reshape(self, node):
        state = self.state.get(node.input[0])
        if isinstance(state, Feature) and state.shape.layout == "first":
            found = super().op_Reshape(node)
            if found is True:
                return True
            x, dims = state.shape, self.known(node.output[0])
            if dims == [1, int(x.c), int(x.positions)] and x.rank > 1:
                self.emit(node, "merge_positions", [x], {}, node.output[0])
                return True
        elif not isinstance(state, Feature):
            return super().op_Reshape(node)
        return self.moves(node) or "output dims unknown"

    def op_Flatten(self, node):
        state = self.state.get(node.input[0])
        if isinstance(state, Feature) and state.shape.layout == "last":
            return self.moves(node) or "output dims unknown"
        return super().op_Flatten(node)

    def op_Slice(self, node):
        state = self.state.get(node.input[0])
        if isinstance(state, Feature) and state.shape.layout == "first":
            found = super().op_Slice(node)
            if found is True:
                return True
        return self.moves(node) or "output dims unknown"

    def op_Concat(self, node):
        found = super().op_Concat(node)
        if found is True:
            return True
        features = [n for n in node.input if isinstance(self.state.get(n), Feature)]
        constants = [n for n in node.input if self.state.get(n) == CONST]
        dims = self.known(node.output[0])
        if dims is None or len(features) + len(constants) != len(node.input):
            return found
        if len(features) == 1 and constants and node.input[0] in constants:
            x = self.tokens(features[0])
            sources = [self.origin.get(n, n) for n in constants]
            if x is not None and x.rank == 1 and all(s in self.initializers for s in sources) \
                    and int(self.attr(node, "axis", 0)) % len(dims) == len(dims) - 2:
                tokens = sum(self.known(n)[-2] for n in constants)
                self.emit_tokens(node, "cls_token", [x], dict(tokens=tokens),
                                 weights=tuple(sources))
                return True
        if not constants:
            return self.moves(node)
        return found

    def op_Gather(self, node):
        return self.moves(node) or "output dims unknown"

    op_Squeeze = op_Unsqueeze = op_Expand = op_Gather


def _layout_of(dims: list[int], like: Shape) -> Shape:
    """The state of a tensor of ``dims``: a channels-first map where it still is one (the
    same channels and positions, N = 1), else tokens."""
    if like.layout == "first" and len(dims) >= 3 and dims[0] == 1 and dims[1] == like.c:
        return Shape(Integer(dims[1]), tuple(map(Integer, dims[2:])), producer=like.producer)
    return token_shape(dims, like.producer)


def _operand(dims: list[int]) -> Shape:
    """A matmul operand …×M×K as ``Shape(K, (…, M), "last")``."""
    return token_shape(dims, "") if not (len(dims) == 2 and dims[0] == 1) else \
        Shape(Integer(dims[1]), (Integer(1),), layout="last")


def _feature_and_constant(reader, node):
    names = list(node.input[:2])
    if len(names) != 2:
        return None, None
    states = [reader.state.get(n) for n in names]
    if isinstance(states[0], Feature) and states[1] == CONST:
        return names[0], names[1]
    if isinstance(states[1], Feature) and states[0] == CONST:
        return names[1], names[0]
    return None, None


