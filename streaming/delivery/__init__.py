"""WebSocket delivery: browser frames, rooms, the per-process hub and the server.

Modules, one job each: ``messages`` (frames), ``rooms`` (names and groups),
``consumers`` (the ``/ws/stream/`` endpoint), ``client_frames`` (parsing and
rate limiting of what clients send), ``hub`` (ConnectionManager: local clients,
rooms, fan-out), ``presence`` (cross-process counts in Redis), ``merge``
(joining a backlog of price frames), ``asgi_transport`` (the only module that
knows daphne/Twisted/Channels internals), ``server`` (WebSocketServer) and
``signals``. Nothing is imported here so that importing one piece never pulls
in the others (or the network stack).
"""
