"""REST API routes (filled in by the portfolio API work)."""

urlpatterns: list = []
