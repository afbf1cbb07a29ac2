"""Front ends: other ways into a :class:`~costmodel.core.network.Network` than a layer-spec
file. Each is registered by file suffix in :data:`costmodel.zoo.FRONT_ENDS` and imports its
heavy library (onnx, torch) only when a SPEC names such a file."""
