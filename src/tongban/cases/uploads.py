"""Checks on uploaded materials: content type by the file's bytes (not its name or the browser's
claim), size, a sanitized name, a SHA-256 digest and a pluggable virus scan.

``settings.CASE_UPLOAD_MAX_BYTES`` (default 10 MB) limits the size; ``CASE_UPLOAD_TYPES`` the
accepted types (PDF, JPEG, PNG by default); ``CASE_VIRUS_SCANNER`` names a callable
``scanner(content: bytes, name: str) -> bool`` (True: clean) — the default accepts everything
except the EICAR test string, so the hook is exercised; production points it at ClamAV.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tongban.core.errors import InvalidInput

DEFAULT_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def max_bytes() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def allowed_types() -> dict[str, str]:
    return dict(getattr(settings, "CASE_UPLOAD_TYPES", DEFAULT_TYPES))


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


_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff.\-（）() ]+")


def sanitize_name(name: str) -> str:
    """Keep letters, digits, CJK, dots, dashes, brackets and spaces; drop paths and controls."""
    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:80] or "file"
    return f"{stem}.{ext[:10]}" if ext else stem


def inspect(upload) -> Inspected:
    """Read and check an uploaded file; raise InvalidInput (422) with a clear message."""
    if upload is None:
        raise InvalidInput(_("请选择要上传的文件。"), details=[{"field": "file"}])
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise InvalidInput(
            _("文件过大：不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)},
            code="file_too_large",
            details=[{"field": "file"}],
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(
            _("文件过大：不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)},
            code="file_too_large",
            details=[{"field": "file"}],
        )
    if not content:
        raise InvalidInput(_("文件是空的。"), code="file_empty", details=[{"field": "file"}])
    kind = filetype.guess(content)
    types = allowed_types()
    if kind is None or kind.mime not in types:
        raise InvalidInput(
            _("文件类型不支持：请上传 PDF、JPG 或 PNG 文件。"),
            code="file_type",
            details=[{"field": "file"}],
        )
    name = sanitize_name(getattr(upload, "name", "") or "file")
    clean = scanner()(content, name)
    if not clean:
        raise InvalidInput(
            _("文件未通过病毒检查，已拒收。"), code="file_infected", details=[{"field": "file"}]
        )
    ext = types[kind.mime]
    return Inspected(
        name=name,
        storage_name=f"{uuid.uuid4().hex}.{ext}",
        content_type=kind.mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        scan="clean",
        content=ContentFile(content),
    )
