"""ONNX nodes of windowed attention (Swin) to costmodel's ops, mixed into the translator over
the handlers of :mod:`.onnx_ops_modern`.

torch.onnx's export of ``shifted_window_attention`` is data movement around the ops the
modern handlers already read (the qkv and output projections as ``linear``, q·kᵀ and
weights·v as ``matmul``, the softmax): a Pad to whole windows, the roll (Slice and Concat),
the window partition (Reshape, Transpose). Here:

* ``Pad`` of tokens is free data movement (zeros copied in; none for Swin-T at 224);
* the relative position bias, ``Gather(table, index)`` of a learned table, reshaped and
  added to the attention logits, is a ``parameter`` layer of the table's size (no MACs, as
  torch's counter has it), counted once where it is added;
* an Add of a constant the graph computes from no learned tensor (the shifted windows'
  mask, built in the graph by ConstantOfShape, ScatterND, Equal, Where) is element-wise
  work: no MACs, no params, listed in a note.
"""

from __future__ import annotations

import math

from ..safe_io import printable
from .onnx_ops import CONST, Feature

#: ONNX element types of floating-point numbers (float, float16, double, bfloat16).
_FLOATS = frozenset({1, 10, 11, 16})
#: Ops that make a constant from another without computing with its numbers.
_CARRIES = frozenset({"Identity", "Expand", "Reshape", "Unsqueeze", "Squeeze", "Cast",
                      "Transpose", "Flatten"})
from .onnx_ops_modern import ModernHandlers, _feature_and_constant


class WindowHandlers(ModernHandlers):
    """The handlers of the module docstring."""

    masks_added = 0

    def _window_state(self, key: str, kind):
        if key not in self.__dict__:
            self.__dict__[key] = kind()
        return self.__dict__[key]

    @property
    def learned_constants(self) -> set:
        """Constants computed from a learned tensor (see :meth:`_learned`)."""
        return self._window_state("_learned_constants", set)

    @property
    def tables(self) -> set:
        """Constants read from an initializer by a Gather (and reshaped, transposed...)."""
        return self._window_state("_tables", set)

    @property
    def square_biases(self) -> list:
        """(the initializer, its heads·N·N numbers) of each N×N bias added to attention."""
        return self._window_state("_square_biases", list)

    def note_origin(self, node) -> None:
        """As the modern handlers do; and a Gather from an initializer (a table read at
        constant indices: Swin's relative position bias) is made from that initializer, as
        is what the carrying ops make of it."""
        super().note_origin(node)
        stored = self.constants.get(node.output[0]) if node.op_type == "Constant" else None
        if any(self._learned(n) for n in node.input if n) or (
                stored is not None and stored.data_type in _FLOATS and
                math.prod(stored.dims) > 1):
            self.learned_constants.update(o for o in node.output if o)
        first = node.input[0] if node.input else ""
        if node.op_type == "Gather" and len(node.input) == 2 and first:
            source = self.alias_of.get(first, first)
            source = self.origin.get(source, source)
            if source in self.initializers:
                self.origin[node.output[0]] = source
                self.tables.add(node.output[0])
        elif node.op_type in _CARRIES and first in self.tables:
            self.tables.update(o for o in node.output if o)

    def modern_notes(self) -> tuple[str, ...]:
        out = super().modern_notes()
        if self.square_biases:
            shown = ", ".join(f"{printable(name, 40)} ({size:,})"
                              for name, size in self.square_biases[:4])
            more = len(self.square_biases) - 4
            out += (f"Learned N×N biases added to attention logits, counted as the file holds "
                    f"them: {shown}{f' and {more} more' if more > 0 else ''}. torch.onnx's "
                    f"constant folding stores a relative position table read at fixed indices "
                    f"(Swin's (2w−1)² numbers a head, for w×w windows) as such a tensor of w⁴ "
                    f"numbers a head, so the model's parameters() may hold fewer: export with "
                    f"do_constant_folding=False to count the tables themselves.",)
        if self.masks_added:
            out += (f"Adds of a tensor the graph computes from no learned or stored one (the "
                    f"shifted windows' attention mask): element-wise work, no MACs or params: "
                    f"{self.masks_added}.",)
        return out

    def op_Pad(self, node):
        state = self.state.get(node.input[0])
        pads = self.value(node.input[1]) if len(node.input) > 1 and node.input[1] else \
            self.attr(node, "pads", None)
        if not isinstance(state, Feature) or pads is None:
            return "pads unknown" if isinstance(state, Feature) else None
        mode = self.attr(node, "mode", "constant")
        if not any(pads) and mode in ("constant", "reflect", "edge", "wrap"):
            return self.alias(node, node.output[0], state)  # no padding at all
        if state.shape.layout == "last":
            return self.moves(node) or "output dims unknown"
        return None  # a map padded before a convolution: listed as before

    def op_Add(self, node):
        feature, other = _feature_and_constant(self, node)
        out = self.known(node.output[0])
        if feature is None or out is None or self.known(feature) != out:
            return super().op_Add(node)  # (a constant that widens the tensor is no bias)
        source, x = self.origin.get(other, other), self.state[feature].shape
        dims = self.known(other) or []
        if other in self.tables or (source == other and source in self.initializers and
                                    len(dims) >= 2 and dims[-2:] == out[-2:] and
                                    dims[-1] == dims[-2] and len(out) >= 3):
            elements = self.numel(source)
            if not elements:
                return super().op_Add(node)
            if other not in self.tables:
                self.square_biases.append((source, elements))
            self.emit_tokens(node, "parameter", [x], dict(elements=elements),
                             weights=(source,))
            return True
        found = super().op_Add(node)
        if found is True or other in self.initializers or other in self.constants or \
                source in self.initializers or self._learned(other) or \
                (self.numel(other) or 0) <= 1:
            return found  # (an Add of a stored tensor or of one number stays listed)
        self.masks_added += 1
        return self.alias(node, node.output[0], self.state[feature])

    def _learned(self, tensor: str) -> bool:
        """Whether a constant is an initializer of more than one floating-point number (a
        learned tensor) or is computed from one (recorded by :meth:`note_origin`)."""
        stored = self.initializers.get(tensor)
        if stored is not None:
            return stored.data_type in _FLOATS and (self.numel(tensor) or 0) > 1
        return tensor in self.learned_constants

    def op_Concat(self, node):
        # tokens joined along an axis before the features (the roll of Swin's shifted
        # windows: two slices of the map put back in the other order) or along the features
        # (patch merging's 2×2 neighbours): data movement, whatever axis 1 is
        if node.input and all(self.tokens(n) is not None for n in node.input):
            return self.moves(node) or "output dims unknown"
        return super().op_Concat(node)
