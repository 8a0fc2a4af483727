"""WebSocket consumers (placeholder until live delivery lands): ping and system room."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class StreamConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add("system", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("system", self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("action") == "ping":
            await self.send_json({"type": "pong", "data": {}})

    async def system_status(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "system_status", "data": event["data"]})
