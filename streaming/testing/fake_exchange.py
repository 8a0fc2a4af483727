"""Fake Binance and Coinbase WebSocket servers on 127.0.0.1 speaking their protocols.

They follow the documented wire formats closely enough that the real feeds cannot
tell them from the exchanges, and add knobs tests need: push a price, drop every
socket, go silent (no frames, no pongs), stop and restart on the same port.
Run one for a demo with::

    python -m streaming.testing.fake_exchange --exchange binance --port 9443 \
        --symbols BTC,ETH --rate 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from streaming.testing.base import START_PRICES, FakeExchange
from streaming.testing.binance import FakeBinance
from streaming.testing.coinbase import FakeCoinbase

__all__ = ["FakeExchange", "FakeBinance", "FakeCoinbase", "START_PRICES", "main"]


async def _run(args: argparse.Namespace) -> None:
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    cls = FakeBinance if args.exchange == "binance" else FakeCoinbase
    fake = cls(host=args.host, port=args.port, seed=args.seed)
    async with fake:
        fake.start_ticking(symbols, args.rate)
        setting = "BINANCE_WS_URL" if args.exchange == "binance" else "COINBASE_WS_URL"
        print(f"{fake.name} on {fake.url}  ({setting}={fake.url})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run one fake exchange until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", choices=("binance", "coinbase"), required=True)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks one)")
    parser.add_argument("--symbols", default="BTC,ETH", help="comma-separated bases")
    parser.add_argument("--rate", type=float, default=1.0, help="ticks per second")
    parser.add_argument("--seed", type=int, default=None, help="random-walk seed")
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
