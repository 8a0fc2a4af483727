"""Self-check of bench/ws_client.py against the ``websockets`` server (reference peer).

Hand-run, like everything in bench/ (``python -m bench.ws_client_check``; a few seconds,
no timing asserted). It exercises what the load generator relies on and what a server
may legally send: the 101 and Sec-WebSocket-Accept, masked client text, 7/16/64-bit
lengths, a fragmented message, a ping (the pong must carry the same payload; the
server's ``ping()`` waiter checks it), partial frames across reads, and the closing
handshake started by the server (the client must echo the close code).
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import serve

from bench.common import HOST, free_port
from bench.ws_client import WSClient, connect


class Collect(WSClient):
    def __init__(self, *a) -> None:
        super().__init__(*a)
        self.texts: list[bytes] = []
        self.got = asyncio.Event()

    def on_text(self, payload: bytes, now: float) -> None:
        self.texts.append(payload)
        self.got.set()


async def check() -> list[str]:
    failures: list[str] = []
    done = asyncio.Event()
    received: list[str] = []
    sizes = [0, 5, 125, 126, 65535, 65536, 300_000]

    async def handler(ws) -> None:
        received.append(await ws.recv())  # masked client text (the server checks)
        for size in sizes:
            await ws.send("x" * size)
        await ws.send(["frag-", "ment", "ed"])  # fragmented: text + 2 continuations
        pong = await ws.ping(b"bench-ping")
        await asyncio.wait_for(pong, 5)  # resolves only on a pong with this payload
        await ws.send("after ping")
        await ws.close(4001, "bye")
        done.set()

    port = free_port()
    async with serve(handler, HOST, port, compression=None, max_size=2**22):
        c = await connect(Collect, f"ws://{HOST}:{port}/path?q=1")
        c.send_text('{"action":"subscribe","rooms":["prices"]}')
        await asyncio.wait_for(done.wait(), 10)
        code = await asyncio.wait_for(c.closed, 5)
    want = [b"x" * s for s in sizes] + [b"frag-mented", b"after ping"]
    if received != ['{"action":"subscribe","rooms":["prices"]}']:
        failures.append(f"server got {received!r}")
    if c.texts != want:
        failures.append(
            "texts differ: "
            + repr([len(t) for t in c.texts])
            + " vs "
            + repr([len(t) for t in want])
        )
    if code != 4001:
        failures.append(f"close code {code!r}")
    return failures


if __name__ == "__main__":
    bad = asyncio.run(check())
    print("ws_client: OK" if not bad else "ws_client: FAILED\n" + "\n".join(bad))
    sys.exit(1 if bad else 0)
