"""One error envelope for the whole API: ``{"code", "message", "details"}`` with the status."""

from __future__ import annotations

import logging

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tongban.core.errors import DomainError, RateLimited

logger = logging.getLogger("tongban.api")


def _reply(api: NinjaAPI, request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": str(message), "details": details}, status=status
    )


def _field_path(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        response = _reply(api, request, exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        details = [
            {
                "field": _field_path(e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type"),
            }
            for e in exc.errors
        ]
        return _reply(api, request, 422, "invalid", _("请求内容有误，请按提示修改。"), details)

    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request, exc: DjangoValidationError):
        if hasattr(exc, "message_dict"):
            details = [
                {"field": f, "message": m} for f, msgs in exc.message_dict.items() for m in msgs
            ]
        else:
            details = [{"field": "", "message": m} for m in exc.messages]
        return _reply(api, request, 422, "invalid", details[0]["message"], details)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        return _reply(api, request, 401, "not_authenticated", _("请先登录或提供有效的访问令牌。"))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return _reply(api, request, 403, "forbidden", str(exc) or _("无权执行此操作。"))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _reply(api, request, 404, "not_found", _("未找到请求的对象。"))

    @api.exception_handler(ObjectDoesNotExist)
    def object_not_found(request, exc):
        return _reply(api, request, 404, "not_found", _("未找到请求的对象。"))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        codes = {
            400: "bad_request",
            401: "not_authenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            422: "invalid",
            429: "rate_limited",
        }
        return _reply(api, request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc: SuspiciousOperation):
        # e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's fault, never a 500
        if isinstance(exc, RequestDataTooBig):
            return _reply(api, request, 413, "too_large", _("请求内容过大。"))
        return _reply(api, request, 400, "bad_request", _("请求无效。"))

    @api.exception_handler(Exception)
    def unexpected(request, exc: Exception):
        logger.exception("Unhandled API error on %s %s", request.method, request.path)
        return _reply(api, request, 500, "server_error", _("服务器内部错误，已记录，请稍后重试。"))
