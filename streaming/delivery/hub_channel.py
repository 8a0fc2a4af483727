"""The hub's one channel on the channel layer, and what arrives on it.

A room's group has ONE member per server process: this channel. It joins a
group with the process's first client in that room and leaves with the last,
so a broadcast crosses the layer once per process. Receiving is kept apart
from writing so the channel is always drained (a broadcast to 1,000 sockets
takes tens of ms); a backlog of price frames is merged (:mod:`.merge`) before
it is handed to the hub's ``deliver``.

The hub's channel lives on the ``hub`` channel layer when the project defines
one (with Redis: channels-redis' pub/sub layer, where a broadcast is ONE
``PUBLISH`` pushed to every subscribed process, instead of the core layer's
sorted-set writes and each process's polling). Without it, the default layer.
Frames are live state, so pub/sub's at-most-once delivery costs nothing: a
process that missed one while Redis restarted gets the next price anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from channels.layers import get_channel_layer

from .merge import Frame, merge_price_frames
from .rooms import ALL_GROUP, group_name

logger = logging.getLogger(__name__)

__all__ = ["HubChannel", "publish_frame", "publish_user_close"]

HUB_LAYER = "hub"  # channel layer alias for hub traffic, when configured
FRAME_EVENT = "room.frame"
USER_CLOSE_EVENT = "user.close"
RECEIVE_RETRY_AFTER = 1.0  # seconds; e.g. while Redis restarts
GROUP_CHANGE_TIMEOUT = 3.0  # seconds a group add/discard may take

Deliver = Callable[[str | None, str, str | None], Awaitable[int]]
CloseUser = Callable[[int, int], Awaitable[int]]


def hub_layer() -> Any:
    """The channel layer the hubs' channels live on (``hub``, else the default)."""
    return get_channel_layer(HUB_LAYER) or get_channel_layer()


async def publish_frame(
    group: str, room: str | None, text: str, *, key: str | None = None
) -> None:
    """Put one serialised frame on the channel layer for every hub in ``group``.

    ``key`` (e.g. ``"alert:42"``): each socket gets a frame with that key once.
    """
    message: dict[str, Any] = {"type": FRAME_EVENT, "room": room, "text": text}
    if key is not None:
        message["key"] = key
    await hub_layer().group_send(group, message)


async def publish_user_close(user_id: int, code: int) -> None:
    """Ask every hub (every server process) to close this user's sockets."""
    await hub_layer().group_send(
        ALL_GROUP, {"type": USER_CLOSE_EVENT, "user_id": user_id, "code": code}
    )


class HubChannel:
    """Group membership, receiving and backlog merging for one event loop."""

    def __init__(
        self,
        deliver: Deliver,
        rooms: Callable[[], Iterable[str]],
        close_user: CloseUser | None = None,
    ) -> None:
        self._deliver = deliver
        self._close_user = close_user
        self._rooms = rooms  # the rooms this process's clients are in, now
        self._layer: Any = None
        self.name: str | None = None
        self._inbox: deque[tuple[str | None, str, str | None]] = deque()
        self._inbox_ready = asyncio.Event()

    async def open(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[None]]:
        """Create the channel and join its groups; returns the tasks that serve it."""
        self._layer = hub_layer()
        self.name = await self._layer.new_channel()
        await self.rejoin()  # Redis down: the receive loop and refresh retry
        return [
            loop.create_task(self._receive_loop(), name="hub-receive"),
            loop.create_task(self._deliver_loop(), name="hub-deliver"),
        ]

    # Membership changes never fail the client that caused them (a consumer
    # killed mid-connect left a ghost); the periodic rejoin repairs the groups.
    async def join(self, room: str) -> None:
        if self.name is not None:
            await self._quietly(self._layer.group_add(group_name(room), self.name))

    async def leave(self, room: str) -> None:
        if self.name is not None:
            await self._quietly(self._layer.group_discard(group_name(room), self.name))

    @staticmethod
    async def _quietly(change: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(change, GROUP_CHANGE_TIMEOUT)
        except Exception:  # noqa: BLE001 - see above
            logger.warning("group membership change failed (Redis down?)")

    async def rejoin(self) -> None:
        """Re-add the channel to its groups (a restarted Redis forgot them)."""
        try:
            await self._add_to_groups()
        except Exception:  # noqa: BLE001 - retried on the next refresh
            logger.debug("group re-add failed", exc_info=True)

    async def _add_to_groups(self) -> None:
        await self._layer.group_add(ALL_GROUP, self.name)
        for room in list(self._rooms()):
            await self._layer.group_add(group_name(room), self.name)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self._layer.receive(self.name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. Redis restarting: retry
                logger.warning("hub receive failed; retrying in 1 s", exc_info=True)
                await asyncio.sleep(RECEIVE_RETRY_AFTER)
                await self.rejoin()
                continue
            if message.get("type") == FRAME_EVENT:
                item = (message.get("room"), message["text"], message.get("key"))
                self._inbox.append(item)
                self._inbox_ready.set()
            elif message.get("type") == USER_CLOSE_EVENT and self._close_user:
                await self._close_user(int(message["user_id"]), int(message["code"]))

    async def _deliver_loop(self) -> None:
        """Hand received frames to the hub, a backlog merged into fewer frames."""
        inbox = self._inbox
        while True:
            await self._inbox_ready.wait()
            self._inbox_ready.clear()
            while inbox:
                items = list(inbox)
                inbox.clear()
                if any(key is not None for _, _, key in items):
                    # Keyed frames (alerts) are rare: this backlog goes as it is.
                    for room, text, key in items:
                        await self._deliver(room, text, key)
                    continue
                frames: list[Frame] = [(room, text) for room, text, _ in items]
                for room, text in merge_price_frames(frames):
                    await self._deliver(room, text, None)
