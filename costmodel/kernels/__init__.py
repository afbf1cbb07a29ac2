"""Latency from kernels, not layers: a network's layers grouped into the kernels a runtime
executes (:mod:`.detect`, by fusion rules measured on that runtime), each kernel's time from a
small linear model of its type fitted to measurements on the device (:mod:`.fit`,
:mod:`.measure`, or whole-network times in :mod:`.whole`), kept as plain JSON
(:mod:`.profile`). Every prediction is a sum of named terms (compute, memory, per-kernel
overhead), kernel by kernel; a kernel type the profile has no model for is named, never
counted as 0 s."""
