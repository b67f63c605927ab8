"""PNG previews (thumbnails) of uploaded materials, for the reviewer's screen and the applicant's
case page: an image scaled to at most ``PREVIEW_WIDTH`` pixels wide, or the first page of a PDF
rendered with PDFium at that width.

Only checked files are rendered: an uploaded material whose virus scan is clean, whose stored
bytes still have the SHA-256 recorded at upload and whose content is still of the recorded type
(so a file changed or swapped in the storage is never handed to a parser). A preview is cached
in the storage beside the file (``<file name>.preview.png``), so every process and an
S3-compatible store share it; the material's file never changes after upload, so the cache never
goes stale.
"""

from __future__ import annotations

import hashlib
import io
import logging

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from tongban.core.errors import Conflict, DomainError, NotFound

from . import uploads
from .models import CaseMaterial

logger = logging.getLogger(__name__)

PREVIEW_WIDTH = 1000  # px
PREVIEW_MAX_HEIGHT = 2000  # px (a very tall page or image is scaled to fit this too)
PREVIEW_SUFFIX = ".preview.png"
PREVIEWABLE = ("application/pdf", "image/jpeg", "image/png")


def previewable(cm: CaseMaterial) -> bool:
    return (
        cm.source == CaseMaterial.Source.UPLOAD
        and bool(cm.file)
        and cm.removed_at is None
        and cm.scan == CaseMaterial.Scan.CLEAN
        and cm.content_type in PREVIEWABLE
        and bool(cm.sha256)
    )


def preview_name(cm: CaseMaterial) -> str:
    return f"{cm.file.name}{PREVIEW_SUFFIX}"


def checked_content(cm: CaseMaterial) -> bytes:
    """The stored bytes of ``cm`` after checking them against what the upload recorded.

    NotFound when there is no usable file; Conflict when the stored file no longer matches
    (size, digest or type) — it is then neither rendered nor served."""
    if not previewable(cm):
        raise NotFound(_("该材料没有可查看的文件。"))
    limit = max(cm.size, 0) + 1
    try:
        with cm.file.storage.open(cm.file.name, "rb") as handle:
            content = handle.read(limit)
    except (FileNotFoundError, OSError):
        logger.warning("stored file of case material %s is missing", cm.pk)
        raise NotFound(_("文件暂时无法读取，请联系受理中心。")) from None
    if (
        len(content) != cm.size
        or hashlib.sha256(content).hexdigest() != cm.sha256
        or uploads.detect_type(content) != cm.content_type
    ):
        logger.error("stored file of case material %s does not match its digest", cm.pk)
        raise Conflict(
            _("文件校验未通过（与上传时不一致），已停止显示，请联系受理中心。"),
            code="file_mismatch",
        )
    return content


def _scale(width: float, height: float) -> float:
    return min(PREVIEW_WIDTH / width, PREVIEW_MAX_HEIGHT / height)


def _png(image) -> bytes:
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def render_image(content: bytes, content_type: str) -> bytes:
    from PIL import Image, ImageOps

    image = uploads.open_image(content, content_type)
    try:
        width, height = image.size
        if content_type == "image/jpeg":
            image.draft("RGB", (PREVIEW_WIDTH, PREVIEW_MAX_HEIGHT))
        image = ImageOps.exif_transpose(image)  # phone photos stand the right way up
        width, height = image.size
        scale = _scale(width, height)
        if scale < 1:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        return _png(image)
    finally:
        image.close()


def render_pdf_page(content: bytes) -> bytes:
    """The first page of a PDF as a PNG (white background, annotations and forms drawn)."""
    import pypdfium2 as pdfium

    with uploads.PDFIUM_LOCK:
        document = pdfium.PdfDocument(content)
        try:
            page = document[0]
            try:
                width, height = page.get_size()  # points, rotation applied
                if width <= 0 or height <= 0:
                    raise Conflict(_("PDF 页面尺寸无效，无法预览。"), code="file_damaged")
                bitmap = page.render(scale=_scale(width, height), may_draw_forms=True)
                image = bitmap.to_pil()
            finally:
                page.close()
        finally:
            document.close()
    return _png(image)


def render(content: bytes, content_type: str) -> bytes:
    if content_type == "application/pdf":
        return render_pdf_page(content)
    return render_image(content, content_type)


def preview_png(cm: CaseMaterial) -> bytes:
    """The PNG preview of ``cm``, from the storage cache or rendered (and cached) now."""
    if not previewable(cm):
        raise NotFound(_("该材料没有可预览的文件。"))
    storage = cm.file.storage
    name = preview_name(cm)
    try:
        if storage.exists(name):
            with storage.open(name, "rb") as handle:
                return handle.read()
    except OSError:  # a cache read failure only costs a render
        logger.warning("preview of case material %s could not be read", cm.pk)
    content = checked_content(cm)
    try:
        png = render(content, cm.content_type)
    except DomainError:
        raise
    except Exception:  # a parser failing on a checked file: no preview, never a 500
        logger.exception("preview of case material %s could not be rendered", cm.pk)
        raise Conflict(_("该文件暂时无法预览，请下载查看。"), code="preview_failed") from None
    try:
        saved = storage.save(name, ContentFile(png))
        if saved != name:  # another process cached it first: keep theirs
            storage.delete(saved)
    except OSError:
        logger.warning("preview of case material %s could not be cached", cm.pk)
    return png
