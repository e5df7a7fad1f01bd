"""The API's one error shape for what happens outside its views.

DRF shapes the errors its views raise (`creative_engine.api.errors`). Everything else
on an API path — a route that does not exist, a body too large for Django to read, an
exception while rendering, a genuine bug — would otherwise get Django's HTML pages
(a debug traceback when DEBUG is on). This middleware, outermost, answers those in
the same JSON shape:

1. before the view: a body over API_MAX_BODY_BYTES (by its Content-Length, before a
   byte is read) is a 413; a Content-Length that is not a number a 400;
2. an exception the view let through: hostile-input ones (`as_api_exception`) get
   their 4xx, anything else is logged with its traceback and answers a bare 500;
3. after the view: any error response that is not JSON (Django's 404 for an unknown
   route, its 400/500 pages) is replaced by the shape with the same status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from creative_engine.api.errors import (
    api_exception_handler,
    as_api_exception,
    error_json,
)
from creative_engine.api.parsers import body_too_large_message

logger = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/api/", "/meta/creative-engine/")

_CODES = {
    400: ("bad_request", "The request could not be read."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "No such endpoint."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "The server failed; the error has been logged."),
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


class APIPathMiddleware:
    """A middleware that acts on API paths only (`handle`); others pass through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError


class APIErrorShapeMiddleware(APIPathMiddleware):
    def handle(self, request: HttpRequest) -> HttpResponseBase:
        refusal = self._refuse_body(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            code, message = _CODES.get(
                response.status_code, ("error", "The request failed.")
            )
            if response.status_code == 404:
                message = f"No endpoint at {request.path_info}."
            return error_json(
                status_code=response.status_code, code=code, message=message
            )
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not is_api_path(request.path_info):
            return None
        refused = as_api_exception(exception)
        if refused is not None:
            shaped = api_exception_handler(refused, {})
            if shaped is not None:
                return JsonResponse(shaped.data, status=shaped.status_code)
        logger.exception("unhandled error on %s %s", request.method, request.path_info)
        code, message = _CODES[500]
        return error_json(status_code=500, code=code, message=message)

    @staticmethod
    def _refuse_body(request: HttpRequest) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(declared)
        except ValueError:
            size = -1
        if size < 0:
            return error_json(
                status_code=400,
                code="bad_request",
                message="The Content-Length header is not a byte count.",
            )
        # Multipart bodies carry the master upload; Django bounds their form fields
        # (DATA_UPLOAD_MAX_MEMORY_SIZE) and the upload rules bound the file.
        if request.content_type == "multipart/form-data":
            return None
        if size > settings.API_MAX_BODY_BYTES:
            return error_json(
                status_code=413,
                code="request_too_large",
                message=body_too_large_message(size),
            )
        return None


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
