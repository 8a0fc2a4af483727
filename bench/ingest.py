"""Ingest: frames/s one core turns from raw exchange frames into chosen prices, no network.

Real Binance (combined-stream ``24hrTicker``) and Coinbase (``ticker``) frames, built from
tests/fixtures/exchanges with varying prices and symbols, go through exactly the worker's
hot path: ``parse`` → feed ``dispatch`` → PriceFeedManager (Binance primary, Coinbase
fallback: the fallback's prices are parsed and then not chosen) → ``update.to_dict()`` →
StreamEventBus → subscribers: ConflatingPublisher.offer and the alert pre-check. Bounded:
``--frames`` frames (default 100,000) and a 60 s cap. Profiles once with cProfile.

    python -m bench.ingest --frames 100000
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import io
import json
import os
import pstats
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio_site.settings")

from bench.common import ROOT, SYMBOLS  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "exchanges"


def build_frames(count: int) -> list[tuple[str, str]]:
    b = json.loads((FIX / "binance_ticker.json").read_text())["combined_stream_frame"]
    c = json.loads((FIX / "coinbase_ticker.json").read_text())[
        "exchange_ws_feed_ticker_2022"
    ]
    c = c[0] if isinstance(c, list) else c
    frames = []
    t0 = int(time.time() * 1000)
    for i in range(count):
        sym = SYMBOLS[i % len(SYMBOLS)]
        price = 100 + (i % 997) * 0.013
        if (i // len(SYMBOLS)) % 4 == 3:  # one round in four from the fallback exchange
            f = copy.deepcopy(c)
            f.update(
                {
                    "product_id": f"{sym}-USD",
                    "price": f"{price:.2f}",
                    "sequence": 1000 + i,
                }
            )
            frames.append(("coinbase", json.dumps(f)))
        else:
            f = copy.deepcopy(b)
            f["stream"] = f"{sym.lower()}usdt@ticker"
            f["data"].update({"s": f"{sym}USDT", "c": f"{price:.8f}", "E": t0 + i})
            frames.append(("binance", json.dumps(f)))
    return frames


async def run(frames: list[tuple[str, str]], cap: float = 60.0) -> dict:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from portfolio.alerts import AlertEngine
    from streaming.bus import StreamEventBus
    from streaming.events import EventFilter, EventType, StreamEvent
    from streaming.feeds.binance import BinancePriceFeed
    from streaming.feeds.coinbase import CoinbasePriceFeed
    from streaming.feeds.manager import PriceFeedManager
    from streaming.publisher import ConflatingPublisher

    async def sink(batch):
        return None

    bus = StreamEventBus()
    await bus.start()
    publisher = ConflatingPublisher(sink, 0.25)
    engine = AlertEngine()
    bus.subscribe(
        "publisher",
        lambda e: publisher.offer(e.data),
        EventFilter(event_types={EventType.PRICE_UPDATE}),
        priority=10,
    )
    bus.subscribe(
        "price-alerts",
        lambda e: engine.price_may_fire(e.data),
        EventFilter(event_types={EventType.PRICE_UPDATE}),
        priority=5,
    )
    binance = BinancePriceFeed(SYMBOLS, url="ws://127.0.0.1:9/unused")
    coinbase = CoinbasePriceFeed(SYMBOLS, url="ws://127.0.0.1:9/unused")
    manager = PriceFeedManager(stale_after=3600)
    manager.add_feed(binance, is_primary=True)
    manager.add_feed(coinbase)

    async def on_chosen(update):  # = FeedWorker._on_chosen
        await bus.publish(
            StreamEvent(
                EventType.PRICE_UPDATE,
                update.to_dict(),
                update.timestamp,
                source=update.source.value,
            )
        )

    manager.add_handler(on_chosen)
    feeds = {"binance": binance, "coinbase": coinbase}
    parsers = {"binance": BinancePriceFeed.parse, "coinbase": CoinbasePriceFeed.parse}
    start = time.perf_counter()
    done = 0
    for i in range(0, len(frames), 2000):
        for provider, raw in frames[i : i + 2000]:
            update = parsers[provider](raw)
            if update is not None:
                await feeds[provider].dispatch(update)
        await bus.wait_idle(30)
        done = i + 2000
        if time.perf_counter() - start > cap:
            break
    elapsed = time.perf_counter() - start
    done = min(done, len(frames))
    await bus.stop()
    return {
        "frames": done,
        "seconds": round(elapsed, 3),
        "frames_per_s": round(done / elapsed),
        "us_per_frame": round(elapsed / done * 1e6, 2),
        "offered": publisher.offered,
        "bus_dropped": bus.events_dropped,
    }


def profile(frames: list[tuple[str, str]], top: int = 15) -> str:
    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(run(frames))
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return "\n".join(
        ln.replace(str(ROOT) + "/", "") for ln in lines[start : start + top + 1]
    )


def main(count: int, do_profile: bool = True) -> dict:
    frames = build_frames(count)
    asyncio.run(run(frames[:2000]))  # warm-up (imports, caches)
    result = asyncio.run(run(frames))
    if do_profile:
        result["profile"] = profile(frames[: min(count, 30000)])
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--frames", type=int, default=100_000)
    p.add_argument("--no-profile", action="store_true")
    a = p.parse_args()
    r = main(a.frames, not a.no_profile)
    print(r.pop("profile", ""))
    print(json.dumps(r, indent=1))
