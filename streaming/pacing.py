"""Timing rules of an outbound stream: reconnect backoff and send throttling."""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff", "Throttle", "JITTER", "PRICE_FEED_MAX_RECONNECT_DELAY"]

#: Jitter multiplies each backoff delay by a factor in this range (then capped),
#: so many clients cut at once do not all return at the same instant.
JITTER = (0.8, 1.2)

#: Cap of a price feed's reconnect backoff, in seconds. Once an exchange is
#: back, prices flow again within one capped delay plus the handshake (< 15 s),
#: and a socket retrying for ever stays at ~6-7 attempts a minute (30-38 per
#: 5 min), well inside Binance's 300 connection attempts per 5 min per IP
#: even with several sockets (one per 1024 streams).
PRICE_FEED_MAX_RECONNECT_DELAY = 10.0


class Backoff:
    """Capped, jittered exponential delays; ``reset()`` after a healthy socket."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap
        self.step = 0
        #: Delays actually slept, for observability and tests.
        self.delays: list[float] = []

    def next_delay(self) -> float:
        # The exponent is bounded so a server flapping for days cannot overflow.
        delay = self.base * (2 ** min(self.step, 30))
        if delay >= self.cap:
            # At the cap still jittered (never above it): sockets cut together
            # must not all retry on the same tick for ever.
            delay = self.cap * random.uniform(JITTER[0], 1.0)
        else:
            delay = min(self.cap, delay * random.uniform(*JITTER))
        self.step += 1
        self.delays.append(delay)
        return delay

    def reset(self) -> None:
        self.step = 0


class Throttle:
    """Spaces calls evenly at 1/rate seconds (exchanges cap our inbound rate)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next_at = 0.0

    async def wait(self) -> None:
        rate = self.rate
        if not rate or rate <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._next_at > now:
            await asyncio.sleep(self._next_at - now)
            now = loop.time()
        self._next_at = max(now, self._next_at) + 1.0 / rate
