"""One error shape for every API failure: {"error": {"code", "message", "fields"?}}."""

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
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
