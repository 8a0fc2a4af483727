"""Signals the domain layer hooks into without the streaming layer knowing it."""

from django.dispatch import Signal

# Sent (with ``asend``) after a client is accepted and placed in its rooms.
# kwargs: client_id: str, user_id: int | None, manager: ConnectionManager.
client_connected = Signal()

# Sent (with ``asend``) after a client joined rooms by subscribing, so the
# domain can greet it with the room's current state (e.g. ``system``: the
# status now, not at the next periodic frame).
# kwargs: client_id: str, user_id: int | None, rooms: list[str], manager.
rooms_joined = Signal()
