"""A TCP proxy on 127.0.0.1 that a drill can hang (a partition) and resume.

``hang()`` keeps every connection open but stops moving bytes both ways, which
is what a network partition looks like to a client: no error, no reply. New
connections made while hung are accepted and hang too. Runs its own event
loop in a thread, so sync and async tests can both drive it.
"""

from __future__ import annotations

import asyncio
import threading


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``hang()``/``resume()`` the flow."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._flowing: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="proxy")
        self._server: asyncio.base_events.Server | None = None

    def start(self) -> CuttableProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("proxy did not start")
        return self

    def hang(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.set)

    def stop(self) -> None:
        def _close() -> None:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.call_later(0.2, self._loop.stop)

        self._loop.call_soon_threadsafe(_close)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        self._loop.run_forever()

    async def _open(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.target), 10
            )
        except (OSError, TimeoutError):
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer),
            self._pipe(up_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
