"""Uploaded materials: type by content, decode checks, size limit read in chunks, sanitized
names, SHA-256, the virus-scan hook, and storage through Django's storage API."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.cases.factories import online_case, pdf_bytes, png_bytes, upload
from tests.catalog.factories import make_item
from tongban.cases import services, uploads
from tongban.cases.models import CaseMaterial, Status
from tongban.core.errors import InvalidInput


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def rejected(content: bytes, name: str = "材料.pdf") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        uploads.inspect(SimpleUploadedFile(name, content, "application/pdf"))
    assert caught.value.status == 422
    assert caught.value.details and caught.value.details[0]["field"] == "file"
    return caught.value


# --------------------------------------------------------------------------------------------
# Accepted files


@pytest.mark.parametrize(
    ("name", "content", "mime", "ext"),
    [
        ("申请表.pdf", pdf_bytes(), "application/pdf", "pdf"),
        ("场地照片.jpg", jpeg_bytes(), "image/jpeg", "jpg"),
        ("平面图.png", png_bytes(), "image/png", "png"),
    ],
)
def test_accepted_types(name, content, mime, ext):
    # the browser's claimed type is ignored: everything is sent as application/octet-stream
    checked = uploads.inspect(SimpleUploadedFile(name, content, "application/octet-stream"))
    assert checked.content_type == mime
    assert checked.name == name
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.scan == "clean"
    assert checked.storage_name.endswith(f".{ext}") and len(checked.storage_name) == 32 + 1 + 3
    assert checked.content.read() == content  # stored as it came: nothing re-encoded


def test_the_name_follows_the_detected_type():
    checked = uploads.inspect(SimpleUploadedFile("scan.pdf", png_bytes(), "application/pdf"))
    assert checked.content_type == "image/png"
    assert checked.name == "scan.pdf.png"
    assert checked.storage_name.endswith(".png")


# --------------------------------------------------------------------------------------------
# Refused content


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"PE\x00\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 200
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b'<rect width="10" height="10"/></svg>'
)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("申请表.pdf", HTML),
        ("申请表.pdf", EXE),
        ("申请表.pdf", ZIP),
        ("图.svg", SVG),
        ("图.png", SVG),
        ("说明.pdf", "申请说明".encode()),
    ],
)
def test_content_that_is_not_pdf_jpeg_or_png_is_refused(name, content):
    assert rejected(content, name).code == "file_type"


def test_a_pdf_header_in_front_of_html_is_refused():
    error = rejected(b"%PDF-1.7\n" + HTML)
    assert error.code == "file_damaged"
    assert "PDF" in error.message


def test_a_password_protected_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    error = rejected(buffer.getvalue())
    assert error.code == "file_encrypted"


def test_a_truncated_png_is_refused():
    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(buffer, "PNG")
    content = buffer.getvalue()
    assert rejected(content[: len(content) // 2], "图.png").code == "file_damaged"


def test_a_truncated_jpeg_is_refused():
    content = jpeg_bytes((300, 200))
    assert rejected(content[: len(content) * 2 // 3], "图.jpg").code == "file_damaged"


def test_a_png_with_a_broken_checksum_is_refused():
    content = bytearray(png_bytes())
    idat = content.index(b"IDAT")
    content[idat + 6] ^= 0xFF  # flip bits inside the compressed data: the CRC no longer matches
    assert rejected(bytes(content), "图.png").code == "file_damaged"


def test_an_image_with_too_many_pixels_is_refused_before_decoding(settings):
    settings.CASE_UPLOAD_MAX_PIXELS = 40 * 30 - 1
    error = rejected(png_bytes(), "图.png")
    assert error.code == "image_too_large"
    assert "40×30" in error.message


def test_empty_and_missing_files():
    assert rejected(b"").code == "file_empty"
    with pytest.raises(InvalidInput) as caught:
        uploads.inspect(None)
    assert caught.value.code == "file_required"


# --------------------------------------------------------------------------------------------
# Size


def test_size_limit(settings):
    settings.CASE_UPLOAD_MAX_BYTES = 1024
    content = pdf_bytes("x" * 2000)
    error = rejected(content)
    assert error.code == "file_too_large"
    settings.CASE_UPLOAD_MAX_BYTES = len(content)
    assert uploads.inspect(upload(content=content)).size == len(content)


def test_the_default_limit_is_ten_megabytes(settings):
    del settings.CASE_UPLOAD_MAX_BYTES
    assert uploads.max_bytes() == 10 * 1024 * 1024
    error = rejected(pdf_bytes() + b"0" * (10 * 1024 * 1024))
    assert error.code == "file_too_large"
    assert "10 MB" in error.message


class EndlessUpload:
    """A stream that never ends and does not tell its size: counts what was read."""

    name = "big.pdf"
    size = None

    def __init__(self):
        self.read_bytes = 0

    def read(self, n=-1):
        assert n > 0, "the whole stream must never be read at once"
        chunk = (b"%PDF-1.4\n" + b"0" * n)[:n] if self.read_bytes == 0 else b"0" * n
        self.read_bytes += len(chunk)
        return chunk


class ChunkedUpload(EndlessUpload):
    def chunks(self, chunk_size=None):
        while True:
            yield self.read(chunk_size or 65536)


@pytest.mark.parametrize("kind", [EndlessUpload, ChunkedUpload])
def test_a_huge_upload_is_read_in_chunks_and_abandoned_past_the_limit(settings, kind):
    settings.CASE_UPLOAD_MAX_BYTES = 1024 * 1024
    stream = kind()
    with pytest.raises(InvalidInput) as caught:
        uploads.inspect(stream)
    assert caught.value.code == "file_too_large"
    assert stream.read_bytes <= 1024 * 1024 + uploads.CHUNK


def test_a_declared_size_over_the_limit_is_refused_without_reading(settings):
    settings.CASE_UPLOAD_MAX_BYTES = 100
    stream = EndlessUpload()
    stream.size = 10**9
    with pytest.raises(InvalidInput):
        uploads.inspect(stream)
    assert stream.read_bytes == 0


# --------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\Desktop\\申请表.pdf", "申请表.pdf"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),  # RTL override dropped, type enforced
        ("营业\u200b执照.pdf", "营业执照.pdf"),  # zero-width space
        ("<script>alert(1)</script>.pdf", "script.pdf"),  # "/" starts a new path part
        ("<img src=x onerror=alert(1)>.pdf", "img src_x onerror_alert(1).pdf"),
        (".hidden.pdf.", "hidden.pdf"),
        ('a";b=c.pdf', "a_b_c.pdf"),
        (".pdf", "file.pdf"),
        ("....", "file.pdf"),
        ("", "file.pdf"),
        ("CON.pdf", "file_CON.pdf"),
        ("scan.JPEG", "scan.JPEG.pdf"),  # a PDF is never named .jpeg
        ("申请表（盖章版）.pdf", "申请表(盖章版).pdf"),  # NFKC: full-width brackets
        ("  spaced   name .pdf", "spaced name.pdf"),
    ],
)
def test_sanitize_name(raw, expected):
    assert uploads.sanitize_name(raw, content_type="application/pdf") == expected


def test_sanitize_keeps_a_jpeg_extension_variant():
    assert uploads.sanitize_name("scan.JPEG", content_type="image/jpeg") == "scan.JPEG"
    assert uploads.sanitize_name("scan.jpg", content_type="image/jpeg") == "scan.jpg"


def test_very_long_names_are_cut():
    name = uploads.sanitize_name("很" * 500 + ".pdf", content_type="application/pdf")
    assert name == "很" * uploads.MAX_STEM + ".pdf"
    name = uploads.sanitize_name("a." + "b" * 300, content_type="application/pdf")
    assert len(name) <= uploads.MAX_STEM + 1 + uploads.MAX_EXT + 4
    assert name.endswith(".pdf")


def test_every_sanitized_name_is_header_safe():
    nasty = "".join(chr(c) for c in range(0, 0x300)) + "\u202e\u2066\u200f\ufeff.pdf"
    name = uploads.sanitize_name(nasty, content_type="application/pdf")
    assert all(ch.isprintable() for ch in name)
    assert not any(ch in name for ch in "\"'\\/:;<>|*?\r\n\t")
    assert len(name) <= 200


# --------------------------------------------------------------------------------------------
# Virus scan


def test_the_default_scanner_refuses_eicar():
    content = pdf_bytes() + b"\n% " + uploads.EICAR + b"\n"
    error = rejected(content)
    assert error.code == "file_infected"


SEEN: list[tuple[int, str]] = []


def recording_scanner(content: bytes, name: str) -> bool:
    SEEN.append((len(content), name))
    return True


def refusing_scanner(content: bytes, name: str) -> bool:
    return False


def broken_scanner(content: bytes, name: str) -> bool:
    raise ConnectionRefusedError("clamd is not running")


def test_a_custom_scanner_gets_the_bytes_and_the_clean_name(settings):
    settings.CASE_VIRUS_SCANNER = "tests.cases.test_uploads.recording_scanner"
    SEEN.clear()
    content = pdf_bytes()
    uploads.inspect(SimpleUploadedFile("../申请表.pdf", content))
    assert [(len(content), "申请表.pdf")] == SEEN


def test_a_custom_scanner_can_refuse(settings):
    settings.CASE_VIRUS_SCANNER = "tests.cases.test_uploads.refusing_scanner"
    assert rejected(pdf_bytes()).code == "file_infected"


def test_the_scanner_runs_before_any_parser(settings, monkeypatch):
    settings.CASE_VIRUS_SCANNER = "tests.cases.test_uploads.refusing_scanner"

    def parser(*args):
        raise AssertionError("parsed before the scan")

    monkeypatch.setattr(uploads, "verify_content", parser)
    assert rejected(pdf_bytes()).code == "file_infected"


@pytest.mark.parametrize(
    "path", ["tests.cases.test_uploads.broken_scanner", "tests.cases.no_such_module.scan"]
)
def test_a_failing_scanner_is_a_clear_422_not_a_500(settings, caplog, path):
    settings.CASE_VIRUS_SCANNER = path
    error = rejected(pdf_bytes())
    assert error.status == 422
    assert error.code == "scan_failed"
    assert "病毒检查暂时无法完成" in error.message
    assert "virus scanner failed" in caplog.text


def test_a_scanner_returning_something_other_than_true_refuses(settings):
    settings.CASE_VIRUS_SCANNER = "tests.cases.test_uploads.returns_none"
    assert rejected(pdf_bytes()).code == "file_infected"


def returns_none(content, name):
    return None


# --------------------------------------------------------------------------------------------
# Through the service and Django's storage


def test_add_upload_stores_through_the_storage_api(world, media):
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item, status=Status.DRAFT)
    content = png_bytes()
    cm = services.add_upload(
        case,
        world.user("enterprise"),
        material_id=None,
        upload=SimpleUploadedFile("..\\场地\u202e照片.png", content, "image/png"),
    )
    cm.refresh_from_db()
    assert cm.source == CaseMaterial.Source.UPLOAD
    assert cm.original_name == "场地照片.png"
    assert cm.content_type == "image/png" and cm.size == len(content)
    assert cm.sha256 == hashlib.sha256(content).hexdigest()
    assert cm.file.name.startswith(f"cases/{case.created_at:%Y/%m}/{case.number}/")
    assert cm.file.name.endswith(".png") and "照片" not in cm.file.name
    assert default_storage.open(cm.file.name).read() == content
    assert (media / cm.file.name).is_file()


def test_a_refused_upload_leaves_no_row_and_no_file(world, media, settings):
    settings.CASE_VIRUS_SCANNER = "tests.cases.test_uploads.broken_scanner"
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item, status=Status.DRAFT)
    with pytest.raises(InvalidInput) as caught:
        services.add_upload(case, world.user("enterprise"), material_id=None, upload=upload())
    assert caught.value.status == 422
    assert not case.materials.exists()
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_the_storage_backend_is_configurable(world, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item, status=Status.DRAFT)
    cm = services.add_upload(case, world.user("enterprise"), material_id=None, upload=upload())
    assert isinstance(cm.file.storage._wrapped, InMemoryStorage)
    assert cm.file.storage.exists(cm.file.name)
    assert cm.file.read() == pdf_bytes()


def test_the_storage_backend_comes_from_the_environment(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.config.settings",
        "TONGBAN_DATA_DIR": str(tmp_path),
        "MEDIA_STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage",
        "MEDIA_STORAGE_OPTIONS": '{"base_url": "/private/"}',
        "CASE_UPLOAD_MAX_BYTES": "2048",
        "CASE_VIRUS_SCANNER": "tongban.cases.uploads.default_scanner",
    }
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.storage import storages\n"
        "s = storages['default']\n"
        "print(type(s).__name__, s.base_url, settings.CASE_UPLOAD_MAX_BYTES)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["InMemoryStorage", "/private/", "2048"]
