"""Only symbols a configured exchange lists may enter a portfolio or a rule.

The streaming layer's :class:`~streaming.feeds.listings.AssetRegistry` knows
what each exchange lists; this module decides which exchanges count (the
configured ``PRICE_FEEDS``, or every known one when only the simulation is
configured) and words the refusal for the person typing the symbol.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from streaming.feeds.listings import default_registry

__all__ = ["configured_exchanges", "validate_listed"]

SIMULATED = "mock"


def configured_exchanges() -> list[str]:
    """The real exchanges prices come from, in the configured order."""
    registry = default_registry()
    known = set(registry.providers)
    chosen = [p for p in settings.PRICE_FEEDS if p != SIMULATED and p in known]
    return chosen or registry.providers


def validate_listed(symbol: str, *, field: str = "symbol") -> None:
    """Raise a field ValidationError when no configured exchange lists ``symbol``."""
    message = default_registry().unlisted_message(symbol, configured_exchanges())
    if message is not None:
        raise ValidationError({field: message}, code="not_listed")
