"""Money per month from the spec's prices: nothing is priced without a price (no defaults)."""

from __future__ import annotations

from .result import Money

__all__ = ["monthly_money"]

_GB = 1e9
_HOUR = 3600.0


def monthly_money(prices, *, store_bytes: int | None, seconds_per_sample: float | None,
                  queries_per_month: int | None) -> Money | None:
    """Storage (``store_bytes`` at ``prices.storage_per_gb_month``) and encoding compute
    (``queries_per_month`` samples at ``seconds_per_sample`` each, at ``prices.compute_per_hour``);
    None when no part has both a price and a quantity."""
    storage = (store_bytes / _GB * prices.storage_per_gb_month
               if prices.storage_per_gb_month is not None and store_bytes is not None else None)
    compute = (queries_per_month * seconds_per_sample / _HOUR * prices.compute_per_hour
               if None not in (prices.compute_per_hour, queries_per_month, seconds_per_sample) else None)
    if storage is None and compute is None:
        return None
    return Money(currency=prices.currency, storage_per_month=storage, compute_per_month=compute)
