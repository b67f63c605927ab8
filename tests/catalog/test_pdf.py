"""PDFs: core.pdf renders Chinese with an embedded CJK font; the guide PDF holds the guide."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.catalog.factories import make_item
from tongban.core.pdf import font_path, render_pdf


def fonts_of(reader: PdfReader) -> list[dict]:
    """Every font dictionary used on the pages, with its descendant font when composite."""
    found = []
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        fonts = resources.get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            found.append(font)
            for descendant in font.get("/DescendantFonts") or []:
                found.append(descendant.get_object())
    return found


def embedded_cjk_fonts(reader: PdfReader) -> list[str]:
    names = []
    for font in fonts_of(reader):
        descriptor = font.get("/FontDescriptor")
        if descriptor is None:
            continue
        descriptor = descriptor.get_object()
        if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            names.append(str(font.get("/BaseFont")))
    return names


def text_of(reader: PdfReader) -> str:
    return "".join(page.extract_text() for page in reader.pages)


def test_font_comes_from_the_package():
    path = font_path()
    assert path.name == "NotoSansCJK-Regular.ttc"
    assert path.is_file()


def test_render_pdf_blocks_and_chinese_text():
    rows = [[str(i), f"营业执照复印件{i}", "容缺（可后补）"] for i in range(1, 60)]
    content = render_pdf(
        "第一类医疗器械生产备案 办事指南",
        [
            ("h2", "基本信息"),
            ("kv", [("事项名称", "第一类医疗器械生产备案"), ("网上办理深度", "Ⅳ级：全程网办")]),
            ("p", "申请人应当是依法设立的企业。" * 20),
            ("list", ["第一条", "第二条"]),
            ("table", ["序号", "材料名称", "必要性"], rows, (10, 60, 30)),
            ("note", "本指南依据现行版本生成。"),
        ],
        qr_url="http://testserver/items/X/",
    )
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2  # the long table breaks onto a second page
    text = text_of(reader)
    assert "第一类医疗器械生产备案" in text
    assert "营业执照复印件59" in text
    assert "Ⅳ级：全程网办" in text
    assert "第 1 页 / 共" in text  # page numbers with the total
    assert "通办" in text  # the running header's platform name
    names = embedded_cjk_fonts(reader)
    assert names and all("NotoSansCJKSC" in n for n in names)
    assert reader.metadata.title == "第一类医疗器械生产备案 办事指南"


def test_render_pdf_refuses_unknown_blocks():
    with pytest.raises(ValueError):
        render_pdf("标题", [("marquee", "x")])
    with pytest.raises(ValueError):
        render_pdf("标题", ["not a tuple"])


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils is not installed")
def test_pdffonts_reports_the_font_embedded(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(render_pdf("中文标题", [("p", "正文")]))
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if "NotoSansCJKSC" in x)
    # columns: name type encoding emb sub uni ...
    assert line.split()[-5:-2] == ["yes", "yes", "yes"]


@pytest.mark.django_db
def test_guide_pdf_has_the_guide(client, world):
    item = make_item(
        world,
        "第一类医疗器械生产备案",
        item_type="21",
        charges_fee=True,
        fee_items="不收取任何费用以外的工本费 5 元",
        fee_basis="粤价〔2020〕1号",
        online_payment=True,
    )
    response = client.get(reverse("catalog:guide_pdf", args=[item.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"guide-{item.code}.pdf" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = text_of(reader)
    assert "第一类医疗器械生产备案 办事指南" in text
    for expected in (
        item.code,
        "东莞市市场监督管理局",
        "申请材料",
        "营业执照",
        "容缺",
        "办理流程",
        "综合窗口人员",
        "工本费 5 元",
        world.city_center.name,
        "办公时间",
        "需要本人到场吗？",
    ):
        assert expected in text, expected
    assert embedded_cjk_fonts(reader)
    # the cached copy is served the second time
    again = client.get(reverse("catalog:guide_pdf", args=[item.code]))
    assert again.content == response.content
