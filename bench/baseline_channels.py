"""Baseline 2 — the textbook Channels pattern, served by daphne.

A stock ``AsyncJsonWebsocketConsumer`` per client joins the ``prices`` group; a feeder
task in the same process reads the bench fake exchange and does ONE ``group_send`` per
update (in-memory channel layer, default capacity). Each consumer's handler
``send_json``s the same price frame the app sends.

    BENCH_EXCHANGE_URL=ws://127.0.0.1:9001/stream daphne -b 127.0.0.1 -p 8200 \
        bench.baseline_channels:application
"""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio_site.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench._frames import frame, price_from_binance  # noqa: E402
from bench.common import SYMBOLS, raise_nofile  # noqa: E402

raise_nofile()
_feeder: asyncio.Task | None = None


async def feed() -> None:
    from websockets.asyncio.client import connect

    layer = get_channel_layer()
    streams = "/".join(f"{s.lower()}usdt@ticker" for s in SYMBOLS)
    url = f"{os.environ['BENCH_EXCHANGE_URL']}?streams={streams}"
    while True:
        try:
            async with connect(
                url, compression=None, max_queue=None, ping_interval=None
            ) as ws:
                async for raw in ws:
                    price = price_from_binance(raw)
                    if price is not None:
                        await layer.group_send(
                            "prices", {"type": "price.update", "prices": [price]}
                        )
        except OSError:
            await asyncio.sleep(0.5)


class PriceConsumer(AsyncJsonWebsocketConsumer):
    groups = ["prices"]

    async def connect(self) -> None:
        global _feeder
        if _feeder is None:
            _feeder = asyncio.get_running_loop().create_task(feed())
        await self.accept()

    async def price_update(self, event) -> None:
        await self.send_json(frame(event["prices"]))


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/", PriceConsumer.as_asgi())])}
)
