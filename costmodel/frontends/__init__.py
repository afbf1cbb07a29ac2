"""Front ends: networks from other sources (a PyTorch module, an ONNX file), and the writer
that turns any network back into a layer-spec file (:mod:`.to_spec`).

Each front end imports its heavy dependency (torch, onnx) inside its functions only."""
