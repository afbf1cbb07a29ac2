"""The allocator state every latency measurement runs in: freed memory kept by the process.

PyTorch's CPU tensors come from the C library's ``malloc``. glibc serves a large block with a
fresh ``mmap`` (every page faulted in again on first touch) until a block that size has been
freed once, and hands the top of its heap back to the kernel whenever more than a threshold
lies free there, so how often a network's fresh feature maps fault depends on what the process
ran before. Measured here (one thread, thread CPU time): MobileNet v2 (α 0.6, 200 px) in a
fresh process takes 15.3 ms a forward with 2,780 page faults (2.8 ms of system time); the same
after a larger network ran in the process, or with the thresholds below, 11.2 ms with none.
ShuffleNet v2 and MobileNet v3 fault a few hundred times a forward; ResNets not at all.

A measurement that depends on the history of the process cannot calibrate anything, so
calibration and the evidence measure in the state a long-running process reaches (and
jemalloc or tcmalloc give from the start): blocks up to ``MMAP_THRESHOLD`` (glibc's own
ceiling for its moving threshold on 64-bit) from the heap, and the heap never trimmed below
``TRIM_THRESHOLD``. The profile records it (:func:`retain_freed_memory`'s description).
"""

from __future__ import annotations

import ctypes
import functools

MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2**30
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


@functools.lru_cache(maxsize=1)
def retain_freed_memory() -> str:
    """Set glibc's thresholds (module doc) for this process, once; what the allocator is now,
    in words for a profile's notes. Elsewhere (musl, macOS, Windows) nothing is changed."""
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return "the C library's malloc as it is (not glibc: thresholds not set)"
    version.restype = ctypes.c_char_p
    if not (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
            mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return "glibc malloc as it is (mallopt refused the thresholds)"
    return (f"glibc {version().decode('ascii', 'replace')} malloc, freed memory kept "
            f"(mmap threshold {MMAP_THRESHOLD // 2**20} MiB, trim threshold "
            f"{TRIM_THRESHOLD // 2**30} GiB), as in a long-running process")
