"""Local receivers for the notification drills: HTTP (scripted answers) and SMTP.

Both bind 127.0.0.1 only; every wait is bounded in time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["HttpReceiver", "SmtpReceiver", "wait_until"]


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None = None


@dataclass
class HttpReceiver:
    """Answers each request with the next scripted status (then ``default``).

    A scripted ``"hang"`` holds the request until :meth:`release` (or
    ``hang_seconds``) and then drops the connection without an answer.
    """

    port: int = 0
    script: list = field(default_factory=list)
    default: int = 200
    hang_seconds: float = 30.0
    redirect_to: str = ""
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                record = Received(
                    self.path, dict(self.headers), self.rfile.read(length)
                )
                with receiver._lock:
                    receiver.requests.append(record)
                    answer = (
                        receiver.script.pop(0) if receiver.script else receiver.default
                    )
                if answer == "hang":
                    receiver._released.wait(receiver.hang_seconds)
                    self.close_connection = True
                    return
                record.answered = answer
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answered_ok(self) -> list[Received]:
        return [r for r in self.requests if r.answered and 200 <= r.answered < 300]


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 keeping every message it accepts."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, list[str], bytes]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                receiver.messages.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
                return "250 Message accepted for delivery"

        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
