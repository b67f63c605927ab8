"""Catalog import and export API (目录导入导出), for catalog administrators only.

* ``GET /catalog/export?kind=items|powers|supervision&format=xlsx|csv`` — a file download
  (CSV: a .zip of CSV files for items and powers, a plain .csv for supervision items).
* ``POST /catalog/imports`` — multipart upload (``kind``, ``file``); accepts ``Idempotency-Key``;
  answers 202 with the import job, which runs in the background.
* ``GET /catalog/imports`` — the caller's import jobs; ``GET /catalog/imports/{id}`` — status,
  progress, errors by sheet / row / column, and the summary.

Applicants and staff without the catalog-administrator role get 403, anonymous callers 401.
The format and the import rules are documented in ``tongban.catalog.exchange``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import wraps
from typing import Any, Literal

from django.http import HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from tongban.api.auth import STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import errors
from tongban.core.errors import DomainError, Forbidden, NotFound
from tongban.core.idempotency import idempotent
from tongban.org.roles import Role
from tongban.org.scopes import has_role

from . import exchange
from .models import ImportJob

router = Router(tags=["catalog-exchange"])

# Multipart overhead allowed on top of the file itself before the body is refused unread.
_MULTIPART_SLACK = 64 * 1024


def require_catalog_admin(user) -> None:
    if not (user.is_superuser or has_role(user, Role.CATALOG_ADMIN)):
        raise Forbidden(_("只有事项管理员可以导入或导出目录。"))


class FileTooLarge(DomainError):
    status = 413
    code = "file_too_large"


def _upload_digest(view):
    """Let ``idempotent`` fingerprint a multipart upload without holding the whole body in
    memory (``request.body`` is capped by DATA_UPLOAD_MAX_MEMORY_SIZE): refuse an oversized
    body before parsing it, then hash the form fields and the streamed file instead."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > exchange.MAX_UPLOAD_BYTES + _MULTIPART_SLACK:
            message = _("文件过大：上限为 %(n)s MB。") % {
                "n": exchange.MAX_UPLOAD_BYTES // (1024 * 1024)
            }
            return _json_error(413, "file_too_large", message)
        if (
            request.headers.get("Idempotency-Key") is not None
            and request.content_type == "multipart/form-data"
            and not hasattr(request, "_body")
        ):
            digest = hashlib.sha256()
            for key in sorted(request.POST):
                for value in request.POST.getlist(key):
                    digest.update(f"{key}={value}\n".encode())
            for key in sorted(request.FILES):
                for upload in request.FILES.getlist(key):
                    digest.update(f"{key}:{upload.name}:{upload.size}\n".encode())
                    for chunk in upload.chunks():
                        digest.update(chunk)
                    upload.seek(0)
            request._body = digest.hexdigest().encode()
        return view(request, *args, **kwargs)

    return wrapper


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": None}, status=status)


def idempotent_upload(view):
    return _upload_digest(idempotent(view))


# --------------------------------------------------------------------------------------------
# Export


class ExportQuery(Schema):
    kind: Literal["items", "powers", "supervision"] = Field(
        ..., description="items (事项、材料、环节…), powers (权力及调整台账) or supervision"
    )
    format: Literal["xlsx", "csv"] = Field("xlsx", description="xlsx, or csv (UTF-8 with BOM)")


@router.get(
    "/catalog/export",
    response={200: None, **errors(401, 403, 422)},
    auth=STAFF_OR_APPLICANT,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file (XLSX, CSV, or a ZIP of CSV files)",
                "content": {
                    exchange.XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}},
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    "text/csv": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def export_catalog(request, query: Query[ExportQuery]):
    """Download the catalog (within the caller's data scope) as XLSX or CSV."""
    require_catalog_admin(request.user)
    result = exchange.export_catalog(query.kind, query.format, user=request.user, request=request)
    response = HttpResponse(result.data, content_type=result.content_type)
    response["Content-Disposition"] = content_disposition_header(True, result.filename)
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------------------------
# Imports


class ImportErrorOut(Schema):
    sheet: str
    row: int = Field(..., description="row as the spreadsheet shows it (header = 1; 0: file)")
    column: str
    message: str


class ImportJobOut(Schema):
    id: int
    kind: str
    kind_label: str
    original_name: str
    status: str
    status_label: str
    total_rows: int
    processed_rows: int
    percent: int
    finished: bool
    error_count: int
    errors: list[ImportErrorOut]
    summary: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class ImportJobListOut(Schema):
    id: int
    kind: str
    original_name: str
    status: str
    status_label: str
    total_rows: int
    processed_rows: int
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: ImportJob) -> str:
        return str(obj.get_status_display())


def _job_out(job: ImportJob) -> ImportJobOut:
    progress = exchange.job_progress(job)
    return ImportJobOut(
        id=job.pk,
        kind=job.kind,
        kind_label=str(job.get_kind_display()),
        original_name=job.original_name,
        status=progress.status,
        status_label=progress.status_label,
        total_rows=progress.total,
        processed_rows=progress.processed,
        percent=progress.percent,
        finished=progress.finished,
        error_count=len(job.errors or []),
        errors=[ImportErrorOut(**e) for e in job.errors or []],
        summary=job.summary or {},
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.post(
    "/catalog/imports",
    response={202: ImportJobOut, **errors(400, 401, 403, 409, 413, 422)},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent_upload)
def create_import(
    request,
    kind: Form[Literal["items", "powers", "supervision"]],
    file: File[UploadedFile],
):
    """Upload an XLSX, CSV or ZIP-of-CSV file and start importing it. Every row is checked
    first and nothing is written when any row is wrong; poll the job for progress and for the
    errors (sheet, row, column, message)."""
    require_catalog_admin(request.user)
    if file.size and file.size > exchange.MAX_UPLOAD_BYTES:
        raise FileTooLarge(
            _("文件过大：上限为 %(n)s MB。") % {"n": exchange.MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    data = file.read(exchange.MAX_UPLOAD_BYTES + 1)
    job = exchange.create_job(
        kind=kind, filename=file.name or "", data=data, by=request.user, request=request
    )
    exchange.dispatch(job)
    job.refresh_from_db()
    return Status(202, _job_out(job))


@router.get("/catalog/imports", response=list[ImportJobListOut], auth=STAFF_OR_APPLICANT)
@paginate(Paginated)
def list_imports(request):
    """The caller's import jobs, newest first (a superuser sees everyone's)."""
    require_catalog_admin(request.user)
    return exchange.jobs_for(request.user)


@router.get(
    "/catalog/imports/{job_id}",
    response={200: ImportJobOut, **errors(401, 403, 404)},
    auth=STAFF_OR_APPLICANT,
)
def get_import(request, job_id: int):
    """An import job's status, progress, errors and summary (one's own jobs only)."""
    require_catalog_admin(request.user)
    job = exchange.jobs_for(request.user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("未找到该导入任务。"))
    return _job_out(job)
