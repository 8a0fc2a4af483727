"""Forms of the server-rendered pages."""

from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Username and password twice; Django's password validators apply."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
