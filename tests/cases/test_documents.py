"""A case's documents: notice and result PDFs (Chinese text, QR, reprints identical), material
downloads and previews, all scoped by ``selectors.case_for`` (404 outside the scope).

The notice pages are also saved as PNGs to /tmp/notices/ for a look by eye."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from tests.cases.factories import online_case, pdf_bytes, upload
from tests.catalog.factories import make_item
from tongban.cases import pdf as notices_pdf
from tongban.cases import previews, services
from tongban.cases.models import Case, CaseMaterial, CaseNotice, Status
from tongban.core.errors import NotFound
from tongban.core.models import AuditEvent
from tongban.registry.models import Licence

NOTICE_DIR = Path("/tmp/notices")  # noqa: S108 - a fixed place to look at the pages
MONDAY = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clock(monkeypatch):
    """Services run on Monday 2026-11-30 10:00 (today is a Saturday); ``clock.move(days)``
    moves on."""

    class Clock:
        moment = MONDAY

        def move(self, days: int) -> None:
            self.moment += dt.timedelta(days=days)

    c = Clock()
    monkeypatch.setattr(services, "now", lambda: c.moment)
    monkeypatch.setattr(services, "today", lambda: c.moment.date())
    return c


@pytest.fixture
def item(world):
    return make_item(world, department=world.market_dept)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return flat("".join(page.extract_text() for page in reader.pages))


def render_pages(content: bytes, name: str) -> list[Image.Image]:
    """Every page as an image (PDFium), saved to /tmp/notices/<name>-<n>.png."""
    NOTICE_DIR.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(content)
    images = []
    try:
        for i in range(len(document)):
            page = document[i]
            image = page.render(scale=1.6).to_pil()
            image.save(NOTICE_DIR / f"{name}-{i + 1}.png")
            images.append(image)
            page.close()
    finally:
        document.close()
    return images


def ink(image: Image.Image) -> float:
    """The share of dark pixels (text, rules, QR) on a page."""
    grey = image.convert("L")
    return sum(grey.histogram()[:128]) / (grey.width * grey.height)


def accepted(world, item) -> Case:
    case = online_case(world, item)
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    return case


def in_review(world, item) -> Case:
    case = accepted(world, item)
    services.start_review(case, world.user("reviewer"))
    case.refresh_from_db()
    return case


def notice_of(case: Case, kind: str) -> CaseNotice:
    return case.notices.filter(kind=kind).order_by("-pk").first()


def notice_url(case: Case, notice: CaseNotice) -> str:
    return reverse("cases_documents:notice_pdf", args=[case.number, notice.number])


def get_pdf(client, world, user_key: str, url: str) -> bytes:
    client.force_login(world.user(user_key))
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    content = response.content
    assert content.startswith(b"%PDF-")
    return content


# --------------------------------------------------------------------------------------------
# Notices


def build_every_notice(world, item) -> dict[str, tuple[Case, CaseNotice]]:
    """One case per notice kind (and decision outcome), each issued through the services."""
    reviewer, approver, clerk = (world.user(k) for k in ("reviewer", "approver", "city_clerk"))
    made = {}

    case = accepted(world, item)
    made["acceptance"] = (case, notice_of(case, CaseNotice.Kind.ACCEPTANCE))

    case = online_case(world, item)
    services.notify_missing(
        case,
        clerk,
        items=["营业执照副本已过期，请提供有效期内的营业执照", "申请表缺少法定代表人签字"],
    )
    made["one_time"] = (case, notice_of(case, CaseNotice.Kind.ONE_TIME))

    case = online_case(world, item)
    services.refuse(case, clerk, reason="申请事项不属于本机关职权范围，请向省药品监督管理局申请。")
    made["refusal"] = (case, notice_of(case, CaseNotice.Kind.REFUSAL))

    case = in_review(world, item)
    services.request_supplement(
        case, reviewer, items=["生产场地平面图（须标明面积）", "主要生产设备清单"]
    )
    made["supplement"] = (case, notice_of(case, CaseNotice.Kind.SUPPLEMENT))

    case = in_review(world, item)
    services.start_special(
        case, reviewer, kind="hearing", reason="该许可涉及他人重大利益，利害关系人申请听证。"
    )
    made["special"] = (case, notice_of(case, CaseNotice.Kind.SPECIAL))

    case = in_review(world, item)
    services.submit_for_approval(case, reviewer, opinion="材料齐全，同意。")
    services.decide(case, approver, decision="denied", reason="生产场地不符合洁净度要求。")
    made["decision_denied"] = (case, notice_of(case, CaseNotice.Kind.DECISION))

    case = in_review(world, item)
    services.submit_for_approval(case, reviewer, opinion="材料齐全，同意。")
    services.decide(case, approver, decision="approved_tolerated", reason="符合条件。")
    made["decision_approved"] = (case, notice_of(case, CaseNotice.Kind.DECISION))
    return made


EXPECTED = {
    "acceptance": ["受理通知书", "决定予以受理", "承诺办结时限", "5个工作日", "办结期限",
                   "容缺后补材料", "场地证明", "结果领取", "进度查询", "东莞市民服务中心"],
    "one_time": ["一次性告知书", "第三十二条", "营业执照副本已过期，请提供有效期内的营业执照",
                 "申请表缺少法定代表人签字", "补齐方式"],
    "refusal": ["不予受理决定书", "决定不予受理", "申请事项不属于本机关职权范围",
                "救济途径", "六十日内", "六个月内", "行政复议", "行政诉讼"],
    "supplement": ["补正材料通知书", "生产场地平面图（须标明面积）", "主要生产设备清单",
                   "补正期限", "2026年12月10日", "暂停计时"],
    "special": ["特别程序告知书", "听证", "利害关系人申请听证", "第四十五条",
                "不计算在行政许可期限内"],
    "decision_denied": ["不予行政许可决定书", "决定不予行政许可", "生产场地不符合洁净度要求",
                        "救济途径", "六十日内", "六个月内"],
    "decision_approved": ["准予行政许可决定书", "决定准予行政许可", "许可证", "容缺后补材料",
                          "场地证明", "救济途径"],
}  # fmt: skip


def test_every_notice_pdf_holds_its_chinese_text_and_renders(client, world, item, clock):
    made = build_every_notice(world, item)
    assert set(made) == set(EXPECTED)
    for name, (case, notice) in made.items():
        content = get_pdf(client, world, "enterprise", notice_url(case, notice))
        text = pdf_text(content)
        for phrase in EXPECTED[name]:
            assert flat(phrase) in text, (name, phrase)
        # the heading facts of every notice
        for phrase in (notice.number, case.number, "示例科技有限公司", notice.issued_in_name_of):
            assert flat(phrase) in text, (name, phrase)
        assert "2026年11月30日" in text  # issued on the fixed day, not the printing day
        pages = render_pages(content, name)
        assert pages and pages[0].width > 900
        assert 0.005 < ink(pages[0]) < 0.4, name  # text on the page, not a blank or black page


def test_acceptance_notice_facts(client, world, item, clock):
    case = accepted(world, item)
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    assert notice.items == ["场地证明"]
    text = pdf_text(get_pdf(client, world, "enterprise", notice_url(case, notice)))
    assert case.accepted_on == dt.date(2026, 11, 30)
    due = case.due_date
    assert flat(f"{due.year}年{due.month}月{due.day}日") in text
    assert "受理日期2026年11月30日" in text
    # the public progress query, with the case number in the QR's address and the text
    assert "http://testserver/progress/" in text
    assert "扫码查询办理进度" in text
    # the contact mobile is masked
    assert "138****8000" in text and "13800138000" not in text


def test_natural_person_id_number_is_masked(client, world, item, clock):
    case = online_case(world, item, user_key="citizen")
    services.accept(case, world.user("city_clerk"))
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    text = pdf_text(get_pdf(client, world, "citizen", notice_url(case, notice)))
    assert "张三：" in text
    assert "110***********002X" in text
    assert "11010519491231002X" not in text


def test_acceptance_notice_reprints_identically_after_the_case_moves_on(client, world, item, clock):
    case = accepted(world, item)
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    url = notice_url(case, notice)
    first = pdf_text(get_pdf(client, world, "enterprise", url))
    due_at_acceptance = case.due_date

    clock.move(3)
    services.start_review(case, world.user("reviewer"))
    services.extend(case, world.user("approver"), days=5, reason="需要现场核查")
    services.receive_tolerated(case, world.user("city_clerk"))
    case.refresh_from_db()
    assert case.due_date != due_at_acceptance and not case.tolerated_pending

    cache.clear()
    second = pdf_text(get_pdf(client, world, "enterprise", url))
    assert second == first
    d = due_at_acceptance
    assert flat(f"{d.year}年{d.month}月{d.day}日") in second


def test_supplement_notice_keeps_its_due_date_after_supplement(client, world, item):
    # the real clock: a supplement must be uploaded after the request (uploaded_at is now)
    case = in_review(world, item)
    services.request_supplement(case, world.user("reviewer"), items=["补充生产设备清单"])
    notice = notice_of(case, CaseNotice.Kind.SUPPLEMENT)
    url = notice_url(case, notice)
    first = pdf_text(get_pdf(client, world, "enterprise", url))
    due = services.today() + dt.timedelta(days=10)
    assert flat(f"补正期限{due.year}年{due.month}月{due.day}日") in first

    services.add_upload(
        case, world.user("enterprise"), material_id=None, upload=upload("设备清单.pdf")
    )
    services.supplement(case, world.user("enterprise"))
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and case.supplement_due is None
    cache.clear()
    assert pdf_text(get_pdf(client, world, "enterprise", url)) == first


def test_refusal_uses_the_versions_remedies_and_adds_the_time_limits(client, world, item, clock):
    item.published_version.__class__.objects.filter(pk=item.published_version_id).update(
        remedies="可向东莞市人民政府申请行政复议，或向东莞市第一人民法院提起行政诉讼"
    )
    case = online_case(world, item)
    services.refuse(case, world.user("city_clerk"), reason="不属于受理范围")
    notice = notice_of(case, CaseNotice.Kind.REFUSAL)
    text = pdf_text(get_pdf(client, world, "enterprise", notice_url(case, notice)))
    assert "可向东莞市人民政府申请行政复议，或向东莞市第一人民法院提起行政诉讼" in text
    assert "六十日内" in text and "六个月内" in text


def test_remedies_text_kept_as_written_when_it_has_the_limits(world, item):
    case = online_case(world, item)
    case.version.remedies = "自收到决定书之日起60日内向市政府申请行政复议，或6个月内起诉。"
    assert notices_pdf.remedies_text(case) == case.version.remedies
    case.version.remedies = ""
    assert "六十日内" in notices_pdf.remedies_text(case)


def test_staff_in_scope_print_notices_and_are_audited(client, world, item, clock):
    case = accepted(world, item)
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    url = notice_url(case, notice)
    for key in ("city_clerk", "reviewer", "approver", "center_admin"):
        get_pdf(client, world, key, url)
    viewed = AuditEvent.objects.filter(action="case.viewed", target_id=str(case.pk))
    assert viewed.count() == 4
    assert viewed.first().data["document_number"] == notice.number
    # the applicant's own prints are not audited
    get_pdf(client, world, "enterprise", url)
    assert viewed.count() == 4


@pytest.mark.parametrize("key", ["citizen", "town_clerk", "catalog_admin", "auditor"])
def test_notice_of_a_case_outside_the_scope_is_404(client, world, item, clock, key):
    case = accepted(world, item)
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    client.force_login(world.user(key))
    response = client.get(notice_url(case, notice))
    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_notice_of_another_case_is_404_under_this_case(client, world, item, clock):
    mine = accepted(world, item)
    other = accepted(world, item)
    foreign = notice_of(other, CaseNotice.Kind.ACCEPTANCE)
    client.force_login(world.user("enterprise"))
    response = client.get(notice_url(mine, foreign))
    assert response.status_code == 404
    response = client.get(
        reverse("cases_documents:notice_pdf", args=[mine.number, "SL20261130-NOPE22"])
    )
    assert response.status_code == 404


def test_documents_need_a_login(client, world, item, clock):
    case = accepted(world, item)
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    response = client.get(notice_url(case, notice))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_result_pdf_only_once_issued(client, world, item, clock):
    case = in_review(world, item)
    url = reverse("cases_documents:result_pdf", args=[case.number])
    client.force_login(world.user("enterprise"))
    assert client.get(url).status_code == 404

    services.submit_for_approval(case, world.user("reviewer"), opinion="同意")
    services.decide(case, world.user("approver"), decision="approved_tolerated")
    assert client.get(url).status_code == 404  # decided, not yet issued
    services.issue_result(case, world.user("approver"), valid_until=dt.date(2031, 11, 29))
    case.refresh_from_db()

    content = get_pdf(client, world, "enterprise", url)
    text = pdf_text(content)
    for phrase in (
        "许可证",
        case.licence_number,
        "示例科技有限公司",
        "91110000600037341L",
        "第一类医疗器械生产备案",
        "2031年11月29日",
        "特发此证",
        "扫码查询办件",
    ):
        assert flat(phrase) in text, phrase
    pages = render_pages(content, "result")
    assert 0.005 < ink(pages[0]) < 0.4

    # a revoked licence says so when reprinted
    Licence.objects.filter(case=case).update(status=Licence.Status.REVOKED)
    assert "不再具有效力" in pdf_text(get_pdf(client, world, "enterprise", url))

    client.force_login(world.user("citizen"))
    assert client.get(url).status_code == 404


# --------------------------------------------------------------------------------------------
# Materials


def png_of(size: tuple[int, int], colour=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 50):  # some content, so the preview is not uniform
        for y in range(size[1]):
            image.putpixel((x, y), (0, 0, 0))
    image.save(buffer, "PNG")
    return buffer.getvalue()


def a4_pdf() -> bytes:
    """A one-page A4 PDF with Chinese text (rendered by the platform's own PDF writer)."""
    from tongban.core.pdf import render_pdf

    return render_pdf("营业执照（副本）", [("p", "统一社会信用代码 91110000600037341L")])


def draft_with(world, item, name: str, content: bytes, user_key="enterprise"):
    case = online_case(world, item, user_key=user_key, status=Status.DRAFT)
    user = world.user(user_key)
    cm = services.add_upload(case, user, material_id=None, upload=upload(name, content))
    return case, cm


def file_url(case, cm):
    return reverse("cases_documents:material_file", args=[case.number, cm.pk])


def preview_url(case, cm):
    return reverse("cases_documents:material_preview", args=[case.number, cm.pk])


def test_material_download_headers_and_bytes(client, world, item, clock):
    content = a4_pdf()
    case, cm = draft_with(world, item, "营业执照 扫描件\u202egpj.pdf", content)
    client.force_login(world.user("enterprise"))
    response = client.get(file_url(case, cm))
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''" in disposition
    assert "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7" in disposition  # 营业执照, encoded
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition
    assert "no-store" in response["Cache-Control"]


def test_staff_download_is_audited_applicant_download_is_not(client, world, item, clock):
    case = online_case(world, item)  # submitted: the center's clerks see it
    cm = case.materials.filter(source=CaseMaterial.Source.UPLOAD).first()
    client.force_login(world.user("enterprise"))
    assert client.get(file_url(case, cm)).status_code == 200
    viewed = AuditEvent.objects.filter(action="case.material_viewed")
    assert not viewed.exists()
    client.force_login(world.user("city_clerk"))
    response = client.get(file_url(case, cm))
    assert response.status_code == 200
    event = viewed.get()
    assert event.actor == world.user("city_clerk")
    assert event.data["material"] == cm.pk and event.data["number"] == case.number


def test_staff_previews_are_audited_once_per_user_material_and_hour(client, world, item, clock):
    case = online_case(world, item)  # submitted: the center's clerks see it
    first, second = case.materials.filter(source=CaseMaterial.Source.UPLOAD)[:2]
    viewed = AuditEvent.objects.filter(action="case.material_viewed")
    client.force_login(world.user("enterprise"))
    assert client.get(preview_url(case, first)).status_code == 200
    assert not viewed.exists()  # the applicant's own files
    client.force_login(world.user("city_clerk"))
    for _ in range(3):  # scrolling the page up and down
        assert client.get(preview_url(case, first)).status_code == 200
    event = viewed.get()
    assert event.actor == world.user("city_clerk")
    assert event.data["material"] == first.pk and event.data["number"] == case.number
    assert event.data["preview"] is True
    assert client.get(preview_url(case, second)).status_code == 200  # another material
    client.force_login(world.user("center_admin"))  # another staff member
    assert client.get(preview_url(case, first)).status_code == 200
    assert viewed.count() == 3
    # a download is audited every time, a preview again once the hour has passed
    client.force_login(world.user("city_clerk"))
    assert client.get(file_url(case, first)).status_code == 200
    assert viewed.count() == 4 and "preview" not in viewed.order_by("-pk").first().data
    cache.clear()  # the hour has passed
    assert client.get(preview_url(case, first)).status_code == 200
    assert viewed.count() == 5


@pytest.mark.parametrize("key", ["citizen", "town_clerk", "reviewer_elsewhere"])
def test_material_outside_the_scope_is_404(client, world, item, clock, key):
    case = online_case(world, item)
    cm = case.materials.filter(source=CaseMaterial.Source.UPLOAD).first()
    if key == "reviewer_elsewhere":
        from tests.factories import assign, make_user
        from tongban.org.roles import Role

        user = make_user("health_reviewer")
        assign(user, Role.REVIEWER, department=world.health_dept)
    else:
        user = world.user(key)
    client.force_login(user)
    assert client.get(file_url(case, cm)).status_code == 404
    assert client.get(preview_url(case, cm)).status_code == 404


def test_material_of_another_case_is_404(client, world, item, clock):
    mine, _ = draft_with(world, item, "a.pdf", pdf_bytes())
    other, theirs = draft_with(world, item, "b.pdf", pdf_bytes("other"))
    client.force_login(world.user("enterprise"))
    assert client.get(file_url(other, theirs)).status_code == 200
    assert client.get(file_url(mine, theirs)).status_code == 404


def test_removed_and_fileless_materials_are_404(client, world, item, clock):
    case, cm = draft_with(world, item, "a.pdf", pdf_bytes())
    services.remove_material(case, world.user("enterprise"), case_material_id=cm.pk)
    client.force_login(world.user("enterprise"))
    assert client.get(file_url(case, cm)).status_code == 404
    licence = Licence.objects.create(
        holder=case.applicant,
        licence_type="营业执照",
        number="ZZ-TEST-1",
        issuer="东莞市市场监督管理局",
        issued_on=dt.date(2025, 1, 1),
    )
    material = case.version.materials.get(name="营业执照")
    reused = services.attach_licence(
        case, world.user("enterprise"), material_id=material.pk, licence_id=licence.pk
    )
    assert client.get(file_url(case, reused)).status_code == 404
    assert client.get(preview_url(case, reused)).status_code == 404


def test_a_file_changed_in_the_storage_is_neither_served_nor_rendered(client, world, item, clock):
    case, cm = draft_with(world, item, "a.png", png_of((200, 100)))
    path = Path(cm.file.path)
    path.write_bytes(png_of((200, 100), colour=(255, 0, 0)))
    client.force_login(world.user("enterprise"))
    assert client.get(file_url(case, cm)).status_code == 404
    assert client.get(preview_url(case, cm)).status_code == 404
    assert not Path(f"{cm.file.path}{previews.PREVIEW_SUFFIX}").exists()


def test_image_preview_is_scaled_and_cached_in_the_storage(client, world, item, clock, monkeypatch):
    case, cm = draft_with(world, item, "场地照片.png", png_of((3000, 1500)))
    client.force_login(world.user("enterprise"))
    response = client.get(preview_url(case, cm))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1000, 500)
    cached = cm.file.storage.exists(previews.preview_name(cm))
    assert cached

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(previews, "render", no_render)
    again = client.get(preview_url(case, cm))
    assert again.status_code == 200 and again.content == response.content


def test_small_image_preview_keeps_its_size(client, world, item, clock):
    case, cm = draft_with(world, item, "small.png", png_of((300, 200)))
    client.force_login(world.user("enterprise"))
    image = Image.open(io.BytesIO(client.get(preview_url(case, cm)).content))
    assert image.size == (300, 200)


def test_jpeg_preview(client, world, item, clock):
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 3200), (240, 240, 240)).save(buffer, "JPEG", quality=80)
    case, cm = draft_with(world, item, "身份证.jpg", buffer.getvalue())
    client.force_login(world.user("enterprise"))
    response = client.get(preview_url(case, cm))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.width <= 1000 and image.height <= previews.PREVIEW_MAX_HEIGHT
    assert abs(image.width / image.height - 0.75) < 0.01


def test_pdf_preview_renders_the_first_page(client, world, item, clock):
    case, cm = draft_with(world, item, "营业执照.pdf", a4_pdf())
    client.force_login(world.user("town_clerk"))  # another center: out of scope
    assert client.get(preview_url(case, cm)).status_code == 404
    client.force_login(world.user("enterprise"))
    response = client.get(preview_url(case, cm))
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.width == 1000
    assert abs(image.height - round(1000 * 297 / 210)) <= 2  # A4 proportions
    NOTICE_DIR.mkdir(parents=True, exist_ok=True)
    image.save(NOTICE_DIR / "material-preview.png")
    assert 0.001 < ink(image) < 0.4


def test_preview_is_never_made_of_an_unchecked_file(world, item, clock):
    _case, cm = draft_with(world, item, "a.pdf", pdf_bytes())
    CaseMaterial.objects.filter(pk=cm.pk).update(scan=CaseMaterial.Scan.PENDING)
    cm.refresh_from_db()
    with pytest.raises(NotFound):
        previews.preview_png(cm)
    assert not cm.file.storage.exists(previews.preview_name(cm))


def test_a_preview_that_cannot_be_rendered_is_not_a_500(client, world, item, clock, monkeypatch):
    case, cm = draft_with(world, item, "a.pdf", pdf_bytes())

    def broken(content):
        raise RuntimeError("pdfium failed")

    monkeypatch.setattr(previews, "render_pdf_page", broken)
    client.force_login(world.user("enterprise"))
    response = client.get(preview_url(case, cm))
    assert response.status_code == 404
    assert client.get(file_url(case, cm)).status_code == 200  # the download still works


def test_a_provisional_due_date_is_marked(client, world, item, clock):
    clock.move(28)  # Monday 2026-12-28: the deadline runs into 2027, not yet in the calendar
    case = accepted(world, item)
    assert case.due_provisional
    notice = notice_of(case, CaseNotice.Kind.ACCEPTANCE)
    text = pdf_text(get_pdf(client, world, "enterprise", notice_url(case, notice)))
    due = case.due_date
    assert flat(f"{due.year}年{due.month}月{due.day}日（暂定") in text
