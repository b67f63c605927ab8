"""Checks on uploaded materials: content type by the file's bytes (not its name or the browser's
claim), size, a sanitized name, a SHA-256 digest, a decode check and a pluggable virus scan.

Settings (all optional):

* ``CASE_UPLOAD_MAX_BYTES`` — the size limit (default 10 MB). The upload is read in chunks and
  reading stops as soon as the limit is passed, so a huge upload never sits whole in memory.
* ``CASE_UPLOAD_TYPES`` — accepted types, ``{mime: extension}`` (PDF, JPEG, PNG by default).
  Only these three can be accepted: each is also opened the way a reviewer's screen would open
  it (a PDF by PDFium, an image decoded whole by Pillow), so a truncated PNG, a ``.pdf`` that
  is an HTML page, or a damaged or password-protected PDF is refused. SVG (it can carry
  scripts), HTML, executables and archives are never accepted.
* ``CASE_UPLOAD_MAX_PIXELS`` — the largest image accepted (default 50 megapixels; refuses
  decompression bombs before they are decoded).
* ``CASE_VIRUS_SCANNER`` — the dotted path of a callable ``scanner(content: bytes, name: str)
  -> bool`` (True: clean). The default accepts everything except the EICAR test string, so the
  hook is exercised; production points it at ClamAV (e.g. a function that sends the bytes to
  clamd with ``INSTREAM``). A scanner that fails (raises, or cannot be imported) makes the upload
  fail with a 422 ``scan_failed`` ("try again later"), never a 500, and is logged.

The file is stored as it came (nothing is re-encoded or stripped), under our own random name
with the extension of the detected type; the sanitized original name is kept for display and
for the download's ``Content-Disposition``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import unicodedata
import uuid
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tongban.core.errors import InvalidInput

logger = logging.getLogger(__name__)

DEFAULT_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
# The types this module knows how to verify; anything else in CASE_UPLOAD_TYPES is ignored.
VERIFIABLE = frozenset(DEFAULT_TYPES)
# Extensions that may stay on a name for each type (others are replaced by the type's own).
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CHUNK = 64 * 1024
HEAD = 8192  # bytes given to the type detection
MAX_STEM = 80
MAX_EXT = 10
# Device names Windows will not open as files, whatever the extension.
RESERVED_STEMS = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)

# PDFium is not thread-safe: one document at a time per process (previews.py shares the lock).
PDFIUM_LOCK = threading.Lock()


def max_bytes() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_PIXELS", 50_000_000))


def allowed_types() -> dict[str, str]:
    types = dict(getattr(settings, "CASE_UPLOAD_TYPES", DEFAULT_TYPES))
    return {mime: ext for mime, ext in types.items() if mime in VERIFIABLE}


def default_scanner(content: bytes, name: str) -> bool:
    return EICAR not in content


def scanner():
    path = getattr(settings, "CASE_VIRUS_SCANNER", "tongban.cases.uploads.default_scanner")
    return import_string(path)


@dataclass(frozen=True)
class Inspected:
    name: str  # the sanitized original name, shown to people
    storage_name: str  # our random name with the extension of the detected type
    content_type: str
    size: int
    sha256: str
    scan: str
    content: ContentFile


def _error(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, details=[{"field": "file", "message": message}])


def _too_large(limit: int) -> InvalidInput:
    mb = limit / (1024 * 1024)
    label = f"{mb:.0f}" if mb >= 1 else f"{mb:.2f}"
    return _error(_("文件过大：不能超过 %(mb)s MB。") % {"mb": label}, "file_too_large")


# --------------------------------------------------------------------------------------------
# Names


_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff.\-()（） ]+")
_SPACES = re.compile(r"\s+")
_UNDERSCORES = re.compile(r"_{2,}")


def sanitize_name(name: str, *, content_type: str = "") -> str:
    """A name safe to show and to put in a ``Content-Disposition`` header.

    Path parts are dropped (``../../etc/passwd`` → ``passwd``; Windows ``C:\\x\\y.pdf`` →
    ``y.pdf``), so are control and format characters (NUL, newlines, the right-to-left override
    U+202E that makes ``exe.pdf`` look like ``fdp.exe``, zero-width spaces); anything that is not
    a letter, digit, CJK character, dot, dash, bracket or space becomes ``_``; the stem is cut
    to 80 characters and the extension to 10. With ``content_type`` the extension is made to
    match the detected type (``photo.svg`` holding a PNG becomes ``photo.svg.png``)."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name))
    name = _UNDERSCORES.sub("_", name).strip(" _").rstrip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = stem.strip(" ._"), ext.strip(" _")
    if not stem:  # ".pdf" or "..pdf": no name at all
        stem = "file"
    if stem.split(".")[0].lower() in RESERVED_STEMS:
        stem = f"file_{stem}"
    stem = stem[:MAX_STEM].rstrip(" .")
    ext = ext[:MAX_EXT]
    if content_type in EXTENSIONS and ext.lower() not in EXTENSIONS[content_type]:
        if ext:
            stem = f"{stem}.{ext}"[: MAX_STEM + 1 + MAX_EXT]
        ext = EXTENSIONS[content_type][0]
    return f"{stem}.{ext}" if ext else stem


# --------------------------------------------------------------------------------------------
# Reading


def _chunks(upload):
    chunks = getattr(upload, "chunks", None)
    if callable(chunks):
        yield from chunks(CHUNK)
        return
    while True:
        chunk = upload.read(CHUNK)
        if not chunk:
            return
        yield chunk


def read_bounded(upload, limit: int) -> tuple[bytes, str]:
    """The upload's bytes and their SHA-256, read in chunks; InvalidInput as soon as more than
    ``limit`` bytes arrive (the rest is never read)."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large(limit)
    digest = hashlib.sha256()
    buffer = bytearray()
    for chunk in _chunks(upload):
        if len(buffer) + len(chunk) > limit:
            raise _too_large(limit)
        digest.update(chunk)
        buffer += chunk
    return bytes(buffer), digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Verifying the content


def detect_type(content: bytes) -> str | None:
    """The MIME type told by the file's first bytes (None: unknown)."""
    kind = filetype.guess(content[:HEAD])
    return kind.mime if kind is not None else None


def verify_pdf(content: bytes) -> int:
    """Open ``content`` with PDFium; the page count. InvalidInput when it cannot be opened."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise _error(
                    _("PDF 文件设置了打开密码，请上传未加密的文件。"), "file_encrypted"
                ) from None
            raise _error(_("文件已损坏或不是有效的 PDF 文件。"), "file_damaged") from None
        try:
            pages = len(document)
        finally:
            document.close()
    if pages < 1:
        raise _error(_("PDF 文件没有页面。"), "file_damaged")
    return pages


def open_image(content: bytes, content_type: str):
    """A Pillow image of ``content`` (not yet decoded), checked to be of ``content_type`` and
    no larger than ``CASE_UPLOAD_MAX_PIXELS``."""
    from PIL import Image

    damaged = _error(_("图片文件已损坏，无法打开。"), "file_damaged")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content), formats=[PILLOW_FORMATS[content_type]])
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
            raise damaged from None
    width, height = image.size
    if width < 1 or height < 1:
        raise damaged
    if width * height > max_pixels():
        raise _error(
            _("图片尺寸过大（%(w)s×%(h)s 像素），请缩小后再上传。") % {"w": width, "h": height},
            "image_too_large",
        )
    return image


def verify_image(content: bytes, content_type: str) -> tuple[int, int]:
    """Decode the whole image (a truncated or corrupt file is refused); its size."""
    from PIL import Image

    damaged = _error(_("图片文件已损坏，无法打开。"), "file_damaged")
    image = open_image(content, content_type)
    size = image.size
    try:
        image.verify()  # structure and checksums (PNG CRCs)
        image = open_image(content, content_type)
        if content_type == "image/jpeg":
            image.draft("RGB", (1000, 1000))  # decode smaller; the whole stream is still read
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError, Warning):
        raise damaged from None
    finally:
        image.close()
    return size


def verify_content(content: bytes, content_type: str) -> None:
    if content_type == "application/pdf":
        verify_pdf(content)
    elif content_type in PILLOW_FORMATS:
        verify_image(content, content_type)
    else:  # pragma: no cover - allowed_types() only lets verifiable types through
        raise _error(_("文件类型不支持：请上传 PDF、JPG 或 PNG 文件。"), "file_type")


def scan(content: bytes, name: str) -> None:
    """Run the configured virus scanner; InvalidInput when infected or when it fails."""
    try:
        clean = scanner()(content, name)
    except Exception:
        logger.exception("virus scanner failed on an upload (%s bytes)", len(content))
        raise _error(
            _("病毒检查暂时无法完成，文件未保存，请稍后重新上传。"), "scan_failed"
        ) from None
    if clean is not True:
        raise _error(_("文件未通过病毒检查，已拒收。"), "file_infected")


def inspect(upload) -> Inspected:
    """Read and check an uploaded file; raise InvalidInput (422) with a clear message."""
    if upload is None:
        raise _error(_("请选择要上传的文件。"), "file_required")
    limit = max_bytes()
    content, sha256 = read_bounded(upload, limit)
    if not content:
        raise _error(_("文件是空的。"), "file_empty")
    types = allowed_types()
    mime = detect_type(content)
    if mime not in types:
        raise _error(_("文件类型不支持：请上传 PDF、JPG 或 PNG 文件。"), "file_type")
    name = sanitize_name(getattr(upload, "name", "") or "file", content_type=mime)
    scan(content, name)  # before any parser touches the bytes
    verify_content(content, mime)
    storage_name = f"{uuid.uuid4().hex}.{types[mime]}"
    return Inspected(
        name=name,
        storage_name=storage_name,
        content_type=mime,
        size=len(content),
        sha256=sha256,
        scan="clean",
        content=ContentFile(content, name=storage_name),
    )
