"""Run a fake exchange on 127.0.0.1 for a demo or a benchmark.

The fakes follow the documented wire formats closely enough that the real feeds
cannot tell them from the exchanges. For a demo::

    python -m devtools.fake_exchange --exchange binance --port 9443 \\
        --symbols BTC,ETH --rate 1

then point the app at it (``BINANCE_WS_URL=ws://127.0.0.1:9443``). For a
benchmark, ``--rate 0 --control`` sends nothing until told to on ``/control``
(see ``devtools.control``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import re
import sys

from devtools.base import START_PRICES, FakeExchange
from devtools.binance import FakeBinance
from devtools.coinbase import FakeCoinbase
from devtools.kraken import FakeKraken

__all__ = ["EXCHANGES", "build", "main", "parse_args"]

#: CLI name -> (fake class, the app setting that points a feed at it).
EXCHANGES: dict[str, tuple[type[FakeExchange], str]] = {
    "binance": (FakeBinance, "BINANCE_WS_URL"),
    "coinbase": (FakeCoinbase, "COINBASE_WS_URL"),
    # No Kraken feed in the app yet; the name is the one its feed is to read.
    "kraken": (FakeKraken, "KRAKEN_WS_URL"),
}
_SYMBOL = re.compile(r"[A-Z0-9]{1,20}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fake_exchange",
        description="Run a fake exchange WebSocket server on 127.0.0.1.",
    )
    parser.add_argument(
        "--exchange", choices=sorted(EXCHANGES), required=True, help="which one"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)"
    )
    parser.add_argument(
        "--symbols",
        default="BTC,ETH",
        help="comma-separated base assets to tick, e.g. BTC,ETH (majors listed too)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=1.0,
        help="automatic ticks per second per symbol; 0 sends none",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="serve /control: ticks on command, E = send time, v = sequence",
    )
    parser.add_argument("--seed", type=int, default=None, help="random-walk seed")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the options; a bad one exits with a message and status 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if not math.isfinite(args.rate) or args.rate < 0:
        parser.error("--rate must be a finite number >= 0")
    args.symbol_list = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    if not args.symbol_list:
        parser.error("--symbols must name at least one base asset")
    bad = [s for s in args.symbol_list if not _SYMBOL.fullmatch(s)]
    if bad:
        parser.error(f"--symbols: not a base asset: {bad[0]}")
    return args


def build(args: argparse.Namespace) -> FakeExchange:
    """The fake the options describe: the symbols listed, ticking not started."""
    cls, _ = EXCHANGES[args.exchange]
    symbols: list[str] = args.symbol_list
    listed = list(dict.fromkeys([*symbols, *START_PRICES]))
    return cls(
        listed,
        port=args.port,
        seed=args.seed,
        control_symbols=symbols if args.control else None,
        # Benchmarks measure the app, not deflate; the bench clients send none.
        compression=None if args.control else "deflate",
    )


async def _run(args: argparse.Namespace) -> None:
    fake = build(args)
    async with fake:
        if args.rate > 0:
            fake.start_ticking(args.symbol_list, args.rate)
        _, setting = EXCHANGES[args.exchange]
        print(
            f"{fake.name} on {fake.endpoint}  ({setting}={fake.endpoint})", flush=True
        )
        if fake.control is not None:
            print(f"control on {fake.url}/control", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C or SIGTERM ends the process


def main(argv: list[str] | None = None) -> int:
    """Run one fake exchange until Ctrl-C; 1 if it cannot listen."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(args))
    except OSError as exc:
        print(
            f"fake_exchange: cannot listen on port {args.port}: {exc}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
