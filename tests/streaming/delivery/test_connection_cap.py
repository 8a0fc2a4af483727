"""Per-address connection cap on /ws/stream/ (issue 19, item 11): nothing capped
how many sockets one address could hold."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from portfolio_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def _client(address: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/stream/", headers=HEADERS)
    # The scope is read when the application first runs, at connect().
    communicator.scope["client"] = (address, 50000)
    return communicator


async def test_one_address_is_capped_and_gets_its_slots_back(
    connection_manager, settings
):
    settings.WS_MAX_CONNECTIONS_PER_ADDRESS = 3
    opened = []
    try:
        for _ in range(3):
            ws = _client("10.9.9.9")
            connected, _ = await ws.connect()
            assert connected
            opened.append(ws)
        refused = _client("10.9.9.9")
        connected, _ = await refused.connect()
        assert not connected
        other = _client("10.9.9.10")  # another address is not affected
        assert (await other.connect())[0]
        opened.append(other)
        await opened.pop(0).disconnect()  # a slot comes back on close
        again = _client("10.9.9.9")
        assert (await again.connect())[0]
        opened.append(again)
    finally:
        for ws in opened:
            await ws.disconnect()


def test_address_behind_trusted_proxies_and_loopback(settings):
    from streaming.delivery.consumers import _client_address

    scope = {
        "client": ("10.0.0.1", 1),
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7")],
    }
    settings.NUM_PROXIES = 0
    assert _client_address(scope) == "10.0.0.1"  # the header is not trusted
    settings.NUM_PROXIES = 1
    assert _client_address(scope) == "203.0.113.7"  # a forged prefix ignored
    assert _client_address({"client": ("127.0.0.1", 1), "headers": []}) == ""
