"""Comparing exact counts with figures as the papers print them.

Papers round some figures and truncate others (MobileNet v1 prints 568.7M as 569 but 290.7M as
290), so an exact count *agrees* with a printed figure when rounding or truncating it to the
printed digit gives that figure: printed - step/2 <= exact < printed + step.
"""

from __future__ import annotations


def agrees(exact: int, printed: float, step: float, unit: float = 1e6) -> bool:
    """``exact`` (in units of one) agrees with ``printed`` (in ``unit``s, printed to ``step``)."""
    value = exact / unit
    return printed - step / 2 - 1e-9 <= value < printed + step + 1e-9
