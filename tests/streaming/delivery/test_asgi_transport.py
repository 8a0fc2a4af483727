"""The guards around daphne/Twisted/Channels internals match the pinned versions.

These fail when an upgrade moves what :mod:`streaming.delivery.asgi_transport`
reads, instead of the hub silently losing its slow-client check or its
session-wrapper shortcut.
"""

from __future__ import annotations

import asyncio
import functools
import json

import pytest

from streaming.delivery import asgi_transport
from streaming.delivery.asgi_transport import (
    frame_sender,
    session_wrapper_skippable,
    transport_of,
    unsent_bytes,
)

from .realserver import ProbeServer


@pytest.mark.timeout(60)
async def test_real_daphne_transport_is_found_and_its_backlog_readable(tmp_path):
    server = ProbeServer(tmp_path)
    try:
        await server.start()
        ws = await server.client()
        [client] = await server.probe()
        # Twisted's TCP Server transport, reached through daphne's
        # partial(handle_reply, protocol) behind Channels' session wrapper.
        assert client["transport"] == "Server", client
        assert isinstance(client["unsent_bytes"], int) and client["unsent_bytes"] >= 0
        assert client["past_session_wrapper"], client
        await ws.close()
        await server.stop()
    finally:
        out = server.finish()
    assert "Traceback" not in out, out


@pytest.mark.timeout(60)
async def test_sockets_that_connect_together_are_pinged_across_the_interval(tmp_path):
    """daphne would ping all of them in one turn every ping_interval (20 s)."""
    server = ProbeServer(tmp_path)
    clients = []
    try:
        await server.start()
        clients = [await server.client() for _ in range(10)]
        # Then all of them speak at once (a page subscribing after a restart):
        # daphne restarts each socket's ping interval on every client frame.
        for ws in clients:
            await ws.send(json.dumps({"action": "ping"}))
        for ws in clients:
            await asyncio.wait_for(ws.recv(), 10)
        report = await server.probe()
        due = sorted(c["keepalive_due_in"] for c in report)
        for ws in clients:
            await ws.close()
        await server.stop()
    finally:
        out = server.finish()
    assert "Traceback" not in out, out
    assert len(due) == 10 and all(d is not None for d in due), report
    assert 0 < due[0] and due[-1] <= 20, due  # never later than daphne's own
    # Golden-ratio phases: ten sockets cover most of the 20 s, none bunched.
    assert due[-1] - due[0] > 14, due
    assert min(b - a for a, b in zip(due, due[1:], strict=False)) > 0.5, due


def test_channels_session_wrapper_still_leaves_frames_alone():
    assert session_wrapper_skippable()


def test_real_session_wrapper_is_skipped(settings):
    from channels.sessions import InstanceSessionWrapper

    async def raw_send(message):
        return None

    wrapper = InstanceSessionWrapper({"cookies": {}}, raw_send)

    class Consumer:
        base_send = wrapper.send

    assert frame_sender(Consumer()) is raw_send


def test_guard_off_falls_back_to_base_send(monkeypatch):
    from channels.sessions import InstanceSessionWrapper

    async def raw_send(message):
        return None

    monkeypatch.setattr(
        InstanceSessionWrapper,
        "save_message_types",
        ["http.response.start", "websocket.send"],
    )
    session_wrapper_skippable.cache_clear()
    try:
        wrapper = InstanceSessionWrapper({"cookies": {}}, raw_send)

        class Consumer:
            base_send = wrapper.send

        assert frame_sender(Consumer()) == Consumer.base_send
    finally:
        session_wrapper_skippable.cache_clear()


class _Transport:
    def __init__(self, **fields):
        self.dataBuffer, self.offset, self._tempDataLen = b"", 0, 0
        self.__dict__.update(fields)

    def abortConnection(self):  # noqa: N802 - Twisted's name
        self.aborted = True


def _daphne_like(transport):
    class Protocol:
        pass

    protocol = Protocol()
    protocol.transport = transport

    async def handle_reply(protocol, message):
        return None

    class Consumer:
        base_send = functools.partial(handle_reply, protocol)

    return Consumer()


def test_transport_without_the_buffer_fields_is_not_checked():
    assert transport_of(_daphne_like(_Transport())) is not None
    moved = _Transport()
    del moved._tempDataLen  # as if Twisted renamed its write buffer
    assert transport_of(_daphne_like(moved)) is None
    assert transport_of(_daphne_like(_Transport(offset="0"))) is None


def test_communicator_style_send_has_no_transport():
    class Plain:
        async def base_send(self, message):
            return None

    plain = Plain()
    assert transport_of(plain) is None
    assert frame_sender(plain) == plain.base_send
    assert unsent_bytes(None) == 0


def test_abort_of_a_gone_transport_does_not_raise():
    asgi_transport.abort(object())


@pytest.mark.timeout(60)
async def test_real_daphne_sends_close_codes_autobahn_refuses(tmp_path):
    """A flooding client is closed with 4008 (an application code daphne sends)."""
    import json

    from websockets.exceptions import ConnectionClosed

    from streaming.delivery.client_frames import FLOOD_CLOSE_AFTER, RATE_BURST

    server = ProbeServer(tmp_path)
    try:
        await server.start()
        ws = await server.client()
        for _ in range(int(RATE_BURST) + FLOOD_CLOSE_AFTER + 50):
            await ws.send(json.dumps({"action": "ping"}))
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(10):
                while True:  # bounded: the close must come within 10 s
                    await ws.recv()
        assert ws.close_code == 4008, (ws.close_code, ws.close_reason)
        await server.stop()
    finally:
        out = server.finish()
    assert "Traceback" not in out, out
