"""The admin's login form, bounded: what a login may carry before it is looked up.

Django's `AuthenticationForm` shows the username's maximum length but does not enforce
it, so a 10,000-character username reached the database (and django-axes' attempt
log, a 255-character column): a 500 on PostgreSQL. Here both fields are bounded and
refused as form errors, before authentication and before anything is written.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator

# Django's hashers accept any length; a bound keeps one login from costing seconds.
MAX_PASSWORD_CHARS = 4096


class BoundedAdminAuthenticationForm(AdminAuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        limit = getattr(username, "max_length", None) or 150  # the user model's
        username.validators.append(MaxLengthValidator(limit))
        password = self.fields["password"]
        password.validators.append(MaxLengthValidator(MAX_PASSWORD_CHARS))
        password.widget.attrs["maxlength"] = str(MAX_PASSWORD_CHARS)
