"""PDF documents that render Chinese anywhere: guides (办事指南), notices, receipts.

``render_pdf(title, blocks, *, qr_url=None)`` lays out an A4 document with fpdf2 and the Noto
Sans CJK SC face (face 2 of the ``noto_cjk_sans_otc`` package's collection), embedded as a
subset so the file opens and prints the same on any machine. Every page has a header with the
platform name and the document title, and a footer with 第 x 页 / 共 y 页.

Blocks are plain tuples, so callers need nothing from fpdf2:

* ``("h2", text)`` and ``("h3", text)`` — section and sub-section headings;
* ``("p", text)`` — a paragraph (line breaks kept, wrapped at any character as Chinese text is);
* ``("note", text)`` — a smaller, muted paragraph;
* ``("list", [text, ...])`` — a bulleted list;
* ``("kv", [(label, value), ...])`` — a two-column table of facts;
* ``("table", headers, rows)`` or ``("table", headers, rows, widths)`` — a table whose heading
  row repeats on every page; ``widths`` are relative column widths;
* ``("pagebreak",)``.

``qr_url`` adds a QR code (vector squares drawn from the ``qrcode`` matrix, crisp at any
zoom) beside the title, e.g. the address of the online version of the document.

The document only has the regular weight (the package ships one); headings are set larger and
drawn with a thin outline stroke so they read as bold.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _
from fontTools import ttLib
from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, WrapMode, XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer, PDFFont
from fpdf.syntax import Name

FONT_FAMILY = "notosanssc"
SC_FACE = 2  # face index of Noto Sans CJK SC in NotoSansCJK-Regular.ttc

TEXT = (26, 31, 41)
MUTED = (74, 82, 99)
ACCENT = (10, 58, 140)
RULE = (211, 217, 227)
HEAD_FILL = (233, 239, 250)
LABEL_FILL = (246, 247, 250)

MARGIN = 18.0  # mm, left and right
TOP = 24.0  # mm, below the running header
BOTTOM = 18.0  # mm, above the footer

Block = tuple[Any, ...]

# Chinese line breaking (禁则): no line starts with closing punctuation, none ends with opening
# punctuation; runs of Latin letters, digits and times (09:00–12:00) stay together unless longer
# than a line.
NO_LINE_START = frozenset("）)」』】〕》〉］]｝}，,。.、；;：:！!？?%％·…—～")
NO_LINE_END = frozenset("（(「『【〔《〈［[｛{")
_TOKEN = re.compile(r"[A-Za-z0-9_\-./@#&+:%~–]+|\s+|.", re.S)

# fontTools narrates every subsetting step at INFO level; keep it out of the server log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


@functools.cache
def font_path() -> Path:
    """The Noto Sans CJK collection shipped by the ``noto_cjk_sans_otc`` package (cached)."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ImproperlyConfigured("The noto-cjk-sans-otc package is not installed.") from exc
    path = Path(str(FONT_PATH))
    if not path.is_file():  # pragma: no cover - a broken install
        raise ImproperlyConfigured(f"Noto Sans CJK font file missing: {path}")
    return path


class _CidSubsetMap(SubsetMap):
    """Character codes that equal the glyphs' CIDs.

    fpdf2 numbers the characters of a CID-keyed CFF font (like Noto Sans CJK) 1, 2, 3 … and
    ships an embedded CMap stream from those codes to the CIDs. Text extractors that only know
    the predefined CMaps (pypdf among them) then cannot read the text. With code = CID the
    font can use the predefined ``Identity-H`` encoding, which every reader understands; the
    ToUnicode map (code → Unicode) is unchanged in meaning. Relies on fpdf2 2.8's SubsetMap
    (the version is pinned; tests/catalog/test_pdf.py extracts the text with pypdf)."""

    def __init__(self, font) -> None:
        super().__init__(font)
        self._char_id_per_glyph = {}
        for code in (0x00, 0x20):
            glyph = self.get_glyph(unicode=code)
            if glyph is not None:
                self._char_id_per_glyph[glyph] = self._cid(glyph)

    @staticmethod
    def _cid(glyph) -> int:
        name = glyph.glyph_name
        if name.startswith("cid") and name[3:].isdigit():
            return int(name[3:])
        return 0 if name == ".notdef" else int(glyph.glyph_id)

    def pick_glyph(self, glyph):
        if glyph is None:
            return None
        code = self._char_id_per_glyph.get(glyph)
        if code is None:
            code = self._char_id_per_glyph[glyph] = self._cid(glyph)
        return code


class _IdentityOutput(OutputProducer):
    """Declares ``Identity-H`` on composite fonts whose codes are their CIDs (see above); the
    equivalent CMap stream fpdf2 also writes stays in the file, unreferenced."""

    def _add_fonts(self, *args, **kwargs):
        fonts = super()._add_fonts(*args, **kwargs)
        for font_obj in fonts.values():
            if isinstance(font_obj, PDFFont) and not isinstance(font_obj.encoding, Name):
                font_obj.encoding = Name("Identity-H")
        return fonts


@functools.cache
def _font_template() -> TTFFont:
    """The parsed font (metrics, cmap, glyph ids: read-only once built), loaded once per
    process; parsing the 19 MB collection takes about half a second."""
    loader = FPDF()
    loader.add_font(FONT_FAMILY, "", str(font_path()), collection_font_number=SC_FACE)
    return loader.fonts[FONT_FAMILY]


def _install_font(doc: FPDF) -> None:
    """Give ``doc`` its own copy of the font: shared read-only tables, but a fresh font file
    handle (subset in place when the PDF is written), descriptor and character map.
    ``recalcBBoxes=False`` keeps the font's own bounding boxes instead of recomputing them
    for every glyph of the subset (over a second saved per document; the values only need to
    enclose the glyphs). Relies on fpdf2 2.8's TTFFont (pinned; see tests/catalog/test_pdf.py)."""
    template = _font_template()
    font = copy.copy(template)
    font.i = len(doc.fonts) + 1
    font._hbfont = None
    font.biggest_size_pt = 0
    font.missing_glyphs = []
    font.desc = copy.copy(template.desc)
    font.ttfont = ttLib.TTFont(
        template.ttffile,
        recalcTimestamp=False,
        recalcBBoxes=False,
        fontNumber=SC_FACE,
        lazy=True,
    )
    font.subset = _CidSubsetMap(font)
    doc.fonts[FONT_FAMILY] = font
    doc._set_min_pdf_version("1.6")  # CID-keyed CFF, as FPDF.add_font would set


def _today_label(today: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": today.year, "m": today.month, "d": today.day}


class _Document(FPDF):
    def __init__(self, title: str, footer_note: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.footer_note = footer_note
        self.platform_name = _("通办 · 一体化政务服务平台")
        _install_font(self)
        self.set_font(FONT_FAMILY, size=10.5)
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.alias_nb_pages("{nb}")
        self.set_title(title)
        self.set_author(self.platform_name)
        self.set_creator(self.platform_name)
        self.set_lang("zh-CN")
        self.set_text_color(*TEXT)

    # running header and footer --------------------------------------------------------------

    def header(self) -> None:
        with self.local_context():
            self.set_font(FONT_FAMILY, size=8.5)
            self.set_text_color(*MUTED)
            self.set_xy(MARGIN, 9)
            half = (self.w - 2 * MARGIN) / 2
            self.cell(half, 5, self.platform_name, align="L")
            title = self.doc_title
            while title and self.get_string_width(title) > half:
                title = title[:-2] + "…"
            self.cell(half, 5, title, align="R")
            self.set_draw_color(*ACCENT)
            self.set_line_width(0.5)
            self.line(MARGIN, 15.5, self.w - MARGIN, 15.5)
        self.set_y(TOP)

    def footer(self) -> None:
        with self.local_context():
            self.set_y(-12)
            self.set_font(FONT_FAMILY, size=8.5)
            self.set_text_color(*MUTED)
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(MARGIN, self.get_y() - 1.5, self.w - MARGIN, self.get_y() - 1.5)
            width = (self.w - 2 * MARGIN) / 2
            self.cell(width, 5, self.footer_note, align="L")
            page = _("第 %(page)s 页 / 共 %(pages)s 页") % {
                "page": self.page_no(),
                "pages": "{nb}",
            }
            self.cell(width, 5, page, align="R")

    # pieces ---------------------------------------------------------------------------------

    @property
    def body_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def wrap(self, text: str, width: float) -> str:
        """``text`` with line breaks inserted so each line fits ``width`` mm in the current
        font, following the Chinese line-breaking rules above."""
        lines: list[str] = []
        fits = self.get_string_width
        for para in str(text).split("\n"):
            line = ""
            for token in _TOKEN.findall(para):
                if fits(line + token) <= width:
                    line += token
                    continue
                if not line.strip() or fits(token) > width:
                    for char in token:  # a run too long for any line: break between chars
                        if line and fits(line + char) > width:
                            lines.append(line)
                            line = ""
                        line += char
                    continue
                carry = ""
                if token[0] in NO_LINE_START and len(line) > 1:
                    carry, line = line[-1], line[:-1]
                while len(line) > 1 and line[-1] in NO_LINE_END:
                    carry, line = line[-1] + carry, line[:-1]
                lines.append(line.rstrip())
                line = (carry + token).lstrip()
            lines.append(line)
        return "\n".join(lines)

    def _text_width(self, width: float = 0) -> float:
        """The usable width of a multi_cell of ``width`` (0: to the right margin)."""
        width = width or (self.w - self.r_margin - self.get_x())
        return width - 2 * self.c_margin - 0.3

    def strong(self, size: float, text: str, *, color=TEXT, line_height: float | None = None):
        """A heading: larger text drawn with a hairline stroke (the font has one weight)."""
        with self.local_context(text_mode="FILL_STROKE", line_width=size / 130):
            self.set_font(FONT_FAMILY, size=size)
            self.set_text_color(*color)
            self.set_draw_color(*color)
            self.multi_cell(
                0,
                line_height or size * 0.55,
                self.wrap(text, self._text_width()),
                align="L",
                wrapmode=WrapMode.CHAR,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )

    def paragraph(self, text: str, *, size: float = 10.5, color=TEXT) -> None:
        self.set_font(FONT_FAMILY, size=size)
        self.set_text_color(*color)
        self.multi_cell(
            0,
            size * 0.6,
            self.wrap(text, self._text_width()),
            align="L",
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_text_color(*TEXT)

    def keep_with_next(self, height: float) -> None:
        """Start a new page when less than ``height`` mm are left (no orphaned headings)."""
        if self.get_y() + height > self.h - BOTTOM:
            self.add_page()

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        import qrcode

        code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(url)
        code.make(fit=True)
        matrix = code.get_matrix()
        module = size / len(matrix)
        with self.local_context(fill_color=(0, 0, 0)):
            for row, cells in enumerate(matrix):
                col = 0
                while col < len(cells):
                    if not cells[col]:
                        col += 1
                        continue
                    start = col
                    while col < len(cells) and cells[col]:
                        col += 1
                    self.rect(
                        x + start * module, y + row * module, (col - start) * module, module, "F"
                    )

    def table_block(
        self,
        headers: Sequence[Any],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float] | None = None,
        *,
        headings: bool = True,
        label_column: bool = False,
    ) -> None:
        self.set_font(FONT_FAMILY, size=9.5)
        self.set_text_color(*TEXT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        data = [[str(h) for h in headers]] if headings else []
        data += [["" if c is None else str(c) for c in row] for row in rows]
        if not data:
            return
        columns = max(len(r) for r in data)
        weights = list(widths) if widths else [1.0] * columns
        total = sum(weights)
        padding = (1.4, 1.8)
        usable = [
            # fpdf2 ignores c_margin in padded cells; 0.4 covers the border and rounding
            self.body_width * w / total - 2 * padding[1] - 0.4
            for w in weights
        ]
        label_style = FontFace(color=MUTED, fill_color=LABEL_FILL)
        with self.table(
            col_widths=tuple(weights),
            first_row_as_headings=headings,
            headings_style=FontFace(fill_color=HEAD_FILL, color=ACCENT),
            line_height=5.6,
            text_align="LEFT",
            wrapmode=WrapMode.CHAR,
            padding=padding,
            cell_fill_mode=TableCellFillMode.NONE,
            width=self.body_width,
            v_align="TOP",
        ) as table:
            for values in data:
                row = table.row()
                for i, value in enumerate(values):
                    text = self.wrap(value, usable[min(i, len(usable) - 1)])
                    style = label_style if label_column and i == 0 else None
                    row.cell(text, style=style)
        self.ln(3)


def _check_block(block: Block) -> None:
    if not isinstance(block, tuple) or not block or not isinstance(block[0], str):
        raise ValueError(f"A PDF block must be a tuple starting with its kind: {block!r}")


def render_pdf(
    title: str,
    blocks: Iterable[Block],
    *,
    qr_url: str | None = None,
    subtitle: str = "",
    qr_caption: str | None = None,
    footer_note: str | None = None,
) -> bytes:
    """An A4 PDF of ``title`` followed by ``blocks`` (see the module docstring)."""
    today = timezone.localdate()
    pdf = _Document(
        title, footer_note if footer_note is not None else _("生成日期：") + _today_label(today)
    )
    pdf.add_page()

    qr_size = 28.0
    if qr_url:
        x = pdf.w - MARGIN - qr_size
        pdf.qr(qr_url, x, TOP, qr_size)
        with pdf.local_context():
            pdf.set_font(FONT_FAMILY, size=7.5)
            pdf.set_text_color(*MUTED)
            pdf.set_xy(x - 6, TOP + qr_size + 1)
            pdf.multi_cell(
                qr_size + 12,
                3.6,
                qr_caption if qr_caption is not None else _("扫码查看在线版本"),
                align="C",
                wrapmode=WrapMode.CHAR,
            )
        pdf.set_right_margin(MARGIN + qr_size + 6)
    pdf.set_xy(MARGIN, TOP)
    pdf.strong(18, title, color=ACCENT, line_height=9)
    if subtitle:
        pdf.ln(1)
        pdf.paragraph(subtitle, size=10, color=MUTED)
    if qr_url:
        pdf.set_y(max(pdf.get_y(), TOP + qr_size + 9))
        pdf.set_right_margin(MARGIN)
    pdf.ln(2)

    for block in blocks:
        _check_block(block)
        kind = block[0]
        if kind == "h2":
            pdf.keep_with_next(24)
            pdf.ln(2)
            pdf.strong(13, str(block[1]), color=ACCENT, line_height=7)
            y = pdf.get_y() + 0.5
            with pdf.local_context(draw_color=RULE, line_width=0.3):
                pdf.line(MARGIN, y, pdf.w - MARGIN, y)
            pdf.ln(2.5)
        elif kind == "h3":
            pdf.keep_with_next(16)
            pdf.ln(1)
            pdf.strong(11, str(block[1]), line_height=6)
            pdf.ln(0.5)
        elif kind == "p":
            pdf.paragraph(str(block[1]))
            pdf.ln(1.5)
        elif kind == "note":
            pdf.paragraph(str(block[1]), size=9, color=MUTED)
            pdf.ln(1)
        elif kind == "list":
            pdf.set_font(FONT_FAMILY, size=10.5)
            for entry in block[1]:
                pdf.set_x(MARGIN)
                pdf.cell(5, 6.3, "·")
                pdf.multi_cell(
                    0,
                    6.3,
                    pdf.wrap(str(entry), pdf._text_width()),
                    align="L",
                    wrapmode=WrapMode.CHAR,
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )
            pdf.ln(1.5)
        elif kind == "kv":
            rows = [(str(label), "" if value is None else str(value)) for label, value in block[1]]
            pdf.table_block((), rows, (28, 72), headings=False, label_column=True)
        elif kind == "table":
            headers, rows = block[1], block[2]
            widths = block[3] if len(block) > 3 else None
            pdf.table_block(headers, rows, widths)
        elif kind == "pagebreak":
            pdf.add_page()
        else:
            raise ValueError(f"Unknown PDF block kind: {kind!r}")
    return bytes(pdf.output(output_producer_class=_IdentityOutput))
