"""Stored candles: the closing price of each hour or day, as an exchange reported it.

Imported by ``portfolio.models`` so Django registers it in the portfolio app.
Fetched from the exchanges' public REST endpoints (``streaming.feeds.candles``)
and kept, so history survives an offline restart and is fetched once.
"""

from __future__ import annotations

from django.db import models

from ..fields import ExactDecimalField


class CandleInterval(models.TextChoices):
    HOUR = "1h", "Hourly"
    DAY = "1d", "Daily"


class Candle(models.Model):
    """One closed candle of ``symbol`` in USD (Binance: USDT, counted as USD)."""

    symbol = models.CharField(max_length=15)
    interval = models.CharField(max_length=2, choices=CandleInterval.choices)
    open_time = models.DateTimeField()
    close = ExactDecimalField(max_digits=34, decimal_places=18)
    source = models.CharField(max_length=20, help_text="binance, coinbase, kraken.")
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol", "interval", "open_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "open_time"], name="candle_unique_slot"
            )
        ]

    def __str__(self) -> str:
        close = format(self.close.normalize(), "f")
        return f"{self.symbol} {self.interval} {self.open_time:%Y-%m-%d %H:%M} {close}"
