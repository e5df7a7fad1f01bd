"""The console's one exception to the site's script policy.

The admin theme (django-unfold) drives its pages with Alpine.js, whose attribute
expressions are compiled at run time: the admin pages need 'unsafe-eval'. Scripts still
load only from our own origin ('unsafe-inline' stays off), and every other path, the
API and its docs included, keeps the strict policy.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

CONSOLE_SCRIPT_UPDATE = {"script-src": ["'unsafe-eval'"]}


class ConsoleScriptPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self._prefix: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self._prefix is None:
            self._prefix = reverse("admin:index")
        if request.path.startswith(self._prefix):
            response._csp_update = CONSOLE_SCRIPT_UPDATE  # type: ignore[attr-defined]
        return response
