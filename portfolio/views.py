"""Server-rendered pages: the live dashboard and the sign-up page.

Log in and log out are Django's own auth views (see ``portfolio/urls.py``);
everything live on the dashboard comes from the REST API and the WebSocket.
"""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import SignupForm

RANGES = ("1h", "24h", "7d", "30d", "1y", "all")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "ranges": RANGES,
        "stale_after": settings.PRICE_STALE_AFTER,
        "watch_symbols": settings.WATCH_SYMBOLS,
    }
    return render(request, "portfolio/dashboard.html", context)


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Channels are read and written through /api/notification-channels/."""
    return render(request, "portfolio/notifications.html")


def transactions(request: HttpRequest) -> HttpResponse:
    """The ledger page; its data comes from /api/transactions/."""
    from .ledger.models import TransactionKind

    return render(
        request, "portfolio/transactions.html", {"kinds": TransactionKind.choices}
    )


@login_required
def api_settings(request: HttpRequest) -> HttpResponse:
    """The API token (create, shown once, revoke) and where the API is described."""
    return render(request, "portfolio/api_settings.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Named because axes' backend is listed too: it only refuses, never
        # authenticates, so the session must record the model backend.
        login(request, user, backend="portfolio.login_lockout.ResettingModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})
