"""One error shape for every API failure: {"error": {"code", "message", "fields"?}}."""

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from creative_engine.api.parsers import RequestTooLarge
from productions.guard import HumanRuleViolation

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """409: the request is understood but the object's state or a rule refuses it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def refuse_unknown_ids(*, field: str, noun: str, missing: Sequence[UUID]) -> None:
    """400 on `field` naming the ids that match nothing the user may see, in the shape
    of a serializer's field error."""
    if missing:
        raise exceptions.ValidationError(
            {field: [f"No {noun} with id {', '.join(str(m) for m in missing)}."]}
        )


class BadRequest(exceptions.APIException):
    """400 for a request Django itself refused to read (not a field's fault)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be read."
    default_code = "bad_request"


def error_json(*, status_code: int, code: str, message: str) -> JsonResponse:
    """The one error shape outside a DRF view (routing, middleware, a crash)."""
    return JsonResponse(
        {"error": {"code": code, "message": message}}, status=status_code
    )


def as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """What Django and the database raise on hostile input, as the API's answer;
    None for anything else (a genuine bug stays a 500)."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(
            "The request's form fields are larger than "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); JSON bodies may be at most "
            f"{settings.API_MAX_BODY_BYTES} bytes (API_MAX_BODY_BYTES)."
        )
    if isinstance(exc, TooManyFieldsSent):
        return BadRequest(
            "The form has more than "
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS).",
            code="too_many_fields",
        )
    if isinstance(exc, TooManyFilesSent):
        return BadRequest(
            f"The form has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files "
            "(DATA_UPLOAD_MAX_NUMBER_FILES).",
            code="too_many_files",
        )
    if isinstance(exc, SuspiciousOperation | UnreadablePostError):
        return BadRequest()
    if isinstance(exc, DataError):
        # Validation should have refused the value first; the database's own words
        # may name tables and columns, so they go to the log, not to the client.
        logger.warning("the database refused a value from an API request: %s", exc)
        return exceptions.ValidationError(
            {
                "non_field_errors": [
                    "A value could not be stored (out of range or not "
                    "representable); nothing was saved."
                ]
            },
            code="unstorable_value",
        )
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = as_api_exception(exc) or exc
    if isinstance(exc, HumanRuleViolation):
        logger.error("human rule refused an API request: %s", exc)
        return Response(
            {"error": {"code": exc.code, "message": str(exc)}},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_messages(exc))
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        # A row gone between the selector and the service is a 404 too, never a 500.
        exc = exceptions.NotFound(
            (str(exc) or None) if isinstance(exc, Http404) else None
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {
            "code": "invalid",
            "message": "The request is not valid.",
            "fields": response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data},
        }
    else:
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else ""
        )
        body = {"code": getattr(detail, "code", "error"), "message": str(detail)}
    response.data = {"error": body}
    return response


def _django_messages(exc: DjangoValidationError) -> dict[str, Any]:
    """Field messages of a model's full_clean(); errors about the whole object are
    reported as DRF does, under `non_field_errors`."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    messages = dict(exc.message_dict)
    if NON_FIELD_ERRORS in messages:
        messages["non_field_errors"] = messages.pop(NON_FIELD_ERRORS)
    return messages
