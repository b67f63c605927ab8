"""Documents of a case for the people who may see the case: its written notices and result as
PDFs, and its uploaded materials (download and PNG preview).

Who: a logged-in user for whom ``selectors.case_for(user, number)`` finds the case — the
applicant (or the agent who filed it) and staff whose data scope covers it; anyone else gets
404, as for a case that does not exist. Staff downloads of a material are audited
(``case.material_viewed``), and so are staff previews (``data.preview``), once per user,
material and hour (a page of previews scrolled up and down does not flood the log); staff
prints of a notice or the result are audited as ``case.viewed``.

URL names (``cases_documents:…``): ``notice_pdf`` (number, notice_number), ``result_pdf``
(number), ``material_file`` (number, pk), ``material_preview`` (number, pk).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tongban.core import audit
from tongban.core.errors import DomainError, NotFound

from . import pdf, previews, selectors, uploads
from .models import Case, CaseMaterial, CaseNotice

NOTICE_PDF_SECONDS = 60 * 60
PREVIEW_AUDIT_SECONDS = 60 * 60  # one case.material_viewed row per user, material and hour


def _case(request, number: str) -> Case:
    try:
        return selectors.case_for(request.user, number)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _is_staff(user) -> bool:
    return getattr(user, "kind", "") != "applicant"


def progress_url(request, case: Case) -> str:
    """The public progress query for ``case`` (the QR code on notices): the number is filled
    in, the applicant types the contact mobile."""
    path = reverse("cases_applicant:progress")
    return request.build_absolute_uri(f"{path}?{urlencode({'number': case.number})}")


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return _private(response)


def _audit_document(request, case: Case, document: str, number: str) -> None:
    if _is_staff(request.user):
        audit.record(
            "case.viewed",
            actor=request.user,
            target=case,
            data={"number": case.number, "document": document, "document_number": number},
            request=request,
        )


@require_safe
@login_required
def notice_pdf(request, number: str, notice_number: str):
    case = _case(request, number)
    notice = (
        CaseNotice.objects.select_related("case").filter(case=case, number=notice_number).first()
    )
    if notice is None:
        raise Http404(_("未找到该文书。"))
    notice.case = case  # the scoped row, with its related objects loaded
    key = f"cases:notice-pdf:{notice.number}:{get_language()}:{request.get_host()}"
    content = cache.get(key)
    if content is None:
        content = pdf.render_notice_pdf(notice, progress_url=progress_url(request, case))
        cache.set(key, content, NOTICE_PDF_SECONDS)
    _audit_document(request, case, notice.kind, notice.number)
    return _pdf_response(content, f"{notice.number}.pdf")


@require_safe
@login_required
def result_pdf(request, number: str):
    case = _case(request, number)
    if case.issued_at is None or not case.licence_number:
        raise Http404(_("该办件尚未出证。"))
    content = pdf.render_result_pdf(case, progress_url=progress_url(request, case))
    _audit_document(request, case, "result", case.licence_number)
    return _pdf_response(content, f"{case.licence_number}.pdf")


def _material(case: Case, pk: int) -> CaseMaterial:
    cm = case.materials.filter(pk=pk, removed_at__isnull=True).first()
    if cm is None or not previews.previewable(cm):
        raise Http404(_("该材料没有可查看的文件。"))
    return cm


def _audit_material(request, case: Case, cm: CaseMaterial, *, preview: bool = False) -> None:
    """A staff member looked at a material: every download, a preview once an hour."""
    if not _is_staff(request.user):
        return
    if preview:
        key = f"cases:preview-audited:{request.user.pk}:{cm.pk}"
        if not cache.add(key, True, PREVIEW_AUDIT_SECONDS):
            return
    data = {
        "number": case.number,
        "material": cm.pk,
        "material_name": cm.name,
        "sha256": cm.sha256,
    }
    if preview:
        data["preview"] = True
    audit.record(
        "case.material_viewed", actor=request.user, target=case, data=data, request=request
    )


@require_safe
@login_required
def material_file(request, number: str, pk: int):
    """Download an uploaded material (checked against its digest first), as an attachment
    under its sanitized original name, never sniffed or rendered by the browser."""
    case = _case(request, number)
    cm = _material(case, pk)
    try:
        content = previews.checked_content(cm)
    except DomainError as exc:
        raise Http404(exc.message) from None
    _audit_material(request, case, cm)
    name = uploads.sanitize_name(cm.original_name or cm.name, content_type=cm.content_type)
    response = HttpResponse(content, content_type=cm.content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Content-Security-Policy"] = "sandbox"
    return _private(response)


@require_safe
@login_required
def material_preview(request, number: str, pk: int):
    """A PNG preview (≤ 1000 px wide) of an image or of a PDF's first page; staff previews are
    audited once per user, material and hour."""
    case = _case(request, number)
    cm = _material(case, pk)
    try:
        png = previews.preview_png(cm)
    except DomainError as exc:
        raise Http404(exc.message) from None
    _audit_material(request, case, cm, preview=True)
    return _private(HttpResponse(png, content_type="image/png"))
