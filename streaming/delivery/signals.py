"""Signals the domain layer hooks into without the streaming layer knowing it."""

from django.dispatch import Signal

# Sent (with ``asend``) after a client is accepted and placed in its rooms.
# kwargs: client_id: str, user_id: int | None, manager: ConnectionManager.
client_connected = Signal()
