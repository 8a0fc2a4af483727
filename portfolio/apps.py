from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self) -> None:
        from . import realtime, session_sockets
        from .ledger import position_cache

        realtime.connect()
        session_sockets.connect()
        position_cache.connect()
