from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("transactions/", views.transactions, name="transactions"),
    # The old name of the front page, kept for links that still use it.
    path("home/", RedirectView.as_view(pattern_name="dashboard"), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path(
        "settings/notifications/",
        views.notification_settings,
        name="notification-settings",
    ),
    path("settings/api/", views.api_settings, name="api-settings"),
]
