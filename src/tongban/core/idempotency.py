"""``Idempotency-Key`` for creating POSTs: a retried request creates nothing twice.

Wrap a ninja operation with ``@decorate_view(idempotent)``. The first request with a key runs
and, when it succeeds (2xx), its response is stored; a later request with the same key from the
same caller gets the stored response again (header ``Idempotent-Replayed: true``). The same key
with a different body is refused (422 ``idempotency_key_reused``). Recording the key and running
the operation share one transaction, so a concurrent duplicate waits for the first and replays
it instead of creating a second record.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": None}, status=status)


_REFUSED = object()


def _principal(request):
    """Who is asking, established before anything is looked up: ``user:<pk>`` for a live bearer
    token or a signed-in session, ``ip:<address>`` for an anonymous caller, or ``_REFUSED`` for
    an Authorization header that names no live token. A stored answer is only ever replayed to
    the user it was given to, and never to a token that has since been revoked or has expired."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return _REFUSED
        from tongban.accounts.selectors import user_for_token

        user = user_for_token(token.strip())
        return f"user:{user.pk}" if user is not None else _REFUSED
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "ip:" + (request.META.get("REMOTE_ADDR") or "unknown")


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def purge_expired(identity: dict | None = None) -> int:
    """Delete expired records: those of this key always, all of them now and then."""
    stale = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - settings.IDEMPOTENCY_TTL
    )
    if identity is not None and secrets.randbelow(100):
        stale = stale.filter(**identity)
    return stale.delete()[0]


def request_digest(request) -> str:
    """A keyed digest of what the request asks for (keyed, so a stored digest of a body that
    holds a password cannot be brute-forced). Multipart uploads are digested from their parsed
    fields and files (streamed), never by reading the whole raw body into memory."""
    digest = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"field:{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"file:{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body or b"")
    return digest.hexdigest()


def idempotent(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(
                422,
                "invalid_idempotency_key",
                _("Idempotency-Key 须为 1 至 200 个可打印字符。"),
            )
        principal = _principal(request)
        if principal is _REFUSED:
            # let the operation's own authentication answer (401), with nothing stored or replayed
            return view(request, *args, **kwargs)
        identity = {
            "principal": principal,
            "method": request.method,
            "path": request.path[:300],
            "key": key,
        }
        body_hash = request_digest(request)
        purge_expired(identity)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(**identity, request_hash=body_hash)
            except IntegrityError:
                record = IdempotencyRecord.objects.filter(**identity).first()
            else:
                response = view(request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    record.status_code = response.status_code
                    record.content_type = response.get("Content-Type", "application/json")
                    record.body = response.content
                    record.save(update_fields=["status_code", "content_type", "body"])
                else:
                    record.delete()
                return response
        if record is None or record.status_code is None:
            return _error(
                409, "idempotency_in_progress", _("相同幂等键的请求正在处理，请稍后重试。")
            )
        if record.request_hash != body_hash:
            return _error(
                422,
                "idempotency_key_reused",
                _("该幂等键已用于内容不同的请求，请使用新的 Idempotency-Key。"),
            )
        return _replay(record)

    return wrapper
