"""Timing rules of an outbound stream: reconnect backoff and send throttling."""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff", "Throttle", "JITTER"]

#: Jitter multiplies each backoff delay by a factor in this range (then capped),
#: so many clients cut at once do not all return at the same instant.
JITTER = (0.8, 1.2)


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
