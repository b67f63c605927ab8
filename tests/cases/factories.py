"""Case test helpers (shared by every cases test module — keep the signatures stable).

``pdf_bytes()`` / ``png_bytes()`` give small valid files for uploads.
``online_case(world, item, ...)`` files a web case as the citizen (or enterprise) up to a status.
``walk_in_case(world, item, clerk=..., ...)`` registers a window case as a clerk.
(``walk(world, status)`` in test_lifecycle.py takes a case to any status.)
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.accounts.models import Applicant
from tongban.cases import services
from tongban.cases.models import Case, Status

FORM = {"description": "申请办理", "contact_mobile": "13800138000"}


def pdf_bytes(text: str = "test") -> bytes:
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return body + f"% {text}\n".encode()


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def upload(name: str = "申请表.pdf", content: bytes | None = None, content_type="application/pdf"):
    return SimpleUploadedFile(name, content if content is not None else pdf_bytes(), content_type)


def provide_required(case: Case, by) -> None:
    """Upload a file for every material of the case's version except 容缺 ones."""
    for m in case.version.materials.all():
        if m.necessity == "tolerated":
            continue
        services.add_upload(case, by, material_id=m.pk, upload=upload(f"{m.name}.pdf"))


def online_case(
    world, item, *, user_key: str = "enterprise", center=None, status=Status.PRE_REVIEW
):
    user = world.user(user_key)
    case = services.start_case(item=item, by=user, channel="web", center=center, form=FORM)
    if status == Status.DRAFT:
        return case
    provide_required(case, user)
    services.submit(case, user)
    case.refresh_from_db()
    return case


def walk_in_case(world, item, *, clerk_key: str = "city_clerk", applicant=None, received=True):
    clerk = world.user(clerk_key)
    applicant = applicant or Applicant.objects.get(user=world.user("enterprise"))
    case = services.start_case(
        item=item, by=clerk, channel="window", applicant=applicant, form=FORM
    )
    provide_required(case, clerk)
    if received:
        services.receive(case, clerk)
    case.refresh_from_db()
    return case
