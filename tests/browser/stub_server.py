"""A stand-in for ``manage.py serve`` while the feed worker is not merged yet.

Runs daphne in-process (``WebSocketServer``) and a tiny worker on its loop:
mock prices into the price cache and the ``prices`` room, each user's summary
into ``portfolio.<uid>``, alert rules evaluated with ``AlertEngine``, snapshots
for the history chart, and a ``system`` status. Used by the browser tests when
``BROWSER_SERVER=stub`` (``python tests/browser/stub_server.py --port N``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio_site.settings")


def _users_and_summaries(prices):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portfolio import selectors, valuation

    out = []
    for user in get_user_model().objects.filter(holdings__isnull=False).distinct():
        holdings = list(selectors.holding_list(owner=user))
        summary = valuation.portfolio_summary(
            holdings=holdings,
            prices=prices,
            now=timezone.now(),
            stale_after=settings.PRICE_STALE_AFTER,
        )
        out.append((user.pk, summary))
    return out


def _snapshot(user_id, value):
    from django.utils import timezone

    from portfolio.models import PortfolioSnapshot

    PortfolioSnapshot.objects.create(
        owner_id=user_id, total_value=value, taken_at=timezone.now()
    )


def _evaluate(engine, batch):
    from portfolio.api.serializers import AlertSerializer

    engine.reload()
    fired = []
    for price in batch:
        for alert in engine.evaluate_price(price):
            fired.append({**AlertSerializer(alert).data, "user_id": alert.owner_id})
    return fired


async def run(host: str, port: int) -> None:
    import django

    django.setup()
    from asgiref.sync import sync_to_async
    from django.conf import settings

    from portfolio.alerts import AlertEngine
    from streaming import price_cache
    from streaming.feeds.mock import MockPriceFeed
    from streaming.server import WebSocketServer

    server = WebSocketServer(host=host, port=port)
    await server.start()
    print(f"Serving on http://{host}:{server.port}/", flush=True)
    feed = MockPriceFeed(list(settings.WATCH_SYMBOLS), seed=7)
    engine = AlertEngine()
    interval = max(settings.PRICE_PUBLISH_INTERVAL, 0.25)
    snapshot_every = settings.PORTFOLIO_SNAPSHOT_INTERVAL
    last_snapshot = 0.0
    loop = asyncio.get_running_loop()
    while True:
        batch = [u.to_dict() for u in feed.next_updates()]
        prices = {p["symbol"]: p for p in batch}
        await sync_to_async(price_cache.store_prices)(prices)
        await server.broadcast_prices(batch)
        summaries = await sync_to_async(_users_and_summaries)(prices)
        snap = loop.time() - last_snapshot >= snapshot_every
        for user_id, summary in summaries:
            await server.broadcast_portfolio_update({**summary, "user_id": user_id})
            if snap:
                await sync_to_async(_snapshot)(user_id, summary["totals"]["value"])
        if snap:
            last_snapshot = loop.time()
        for alert in await sync_to_async(_evaluate)(engine, batch):
            await server.send_alert(alert)
        await server.broadcast_system_status(
            {
                "providers": {
                    "mock": {
                        "status": "connected",
                        "connected_since": None,
                        "messages": 0,
                        "errors": 0,
                        "serving": sorted(prices),
                        "is_primary": True,
                    }
                },
                "serving": dict.fromkeys(sorted(prices), "mock"),
                "mock_active": True,
                "message": "Stub worker: simulated prices.",
            }
        )
        await asyncio.sleep(interval)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    asyncio.run(run(args.host, args.port))


if __name__ == "__main__":
    main()
