"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio_site.settings")

# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from streaming.delivery.origin import SameOriginValidator  # noqa: E402
from streaming.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Static files are served by the app itself so a self-hosted install
        # needs no separate web server.
        "http": ASGIStaticFilesHandler(django_asgi_app),
        # Origin exactly this server's (scheme, host, port) or a trusted one.
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything built so far (Django, the apps, URL confs: ~120,000 objects) lives
# as long as the process. A full garbage collection scanned all of it, ~70 ms
# with the event loop stopped, which every client of a broadcast felt as
# latency; frozen, collections look at newer objects only.
gc.freeze()
