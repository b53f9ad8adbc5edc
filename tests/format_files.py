"""Report files in each format, made here with the formats' own writers (reportlab for PDF,
python-docx for Word, plain text for Markdown), from one report written for the tests.

A report is a list of blocks: ("title", text), ("p", text), ("table", caption, rows) and
("item", text) for a bulleted list item. Every builder renders the same blocks, so a test
can check that each format reads back to the same report.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

CJK_TTF = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

CASE_TABLE = (
    ("类别", "2022年", "2023年"),
    ("行政复议案件", "12", "15"),
    ("行政诉讼案件", "3", "2"),
)


def report_blocks(place: str = "青山镇", year: int = 2023) -> list[tuple]:
    """A report in the usual shape, with a table of case counts in its first part."""
    return [
        ("title", f"{place}{year}年法治政府建设年度报告"),
        ("p", f"{year}年，{place}坚持以习近平法治思想为指导，扎实推进法治政府建设。现将有关情况报告如下："),
        ("p", f"一、{year}年推进法治政府建设的主要举措和成效"),
        ("p", "（一）加强组织领导"),
        ("p", f"{place}党委、政府把法治政府建设摆在全局工作的重要位置，定期研究部署，层层压实责任。"),
        ("p", "（二）依法化解行政争议"),
        ("p", "全年办理行政复议和行政诉讼案件情况见下表，案件数量总体平稳。"),
        ("table", "表1 行政复议和行政诉讼案件情况", CASE_TABLE),
        ("p", "二、存在的不足和原因"),
        ("p", "基层执法人员的法律素养有待提升，普法宣传的针对性还不够强。"),
        ("p", "三、党政主要负责人履行推进法治建设第一责任人职责情况"),
        ("p", "主要负责人带头尊法学法守法用法，亲自部署重要工作，亲自督办重点案件。"),
        ("p", f"四、{year + 1}年工作安排"),
        ("item", "深化行政执法三项制度，规范执法程序。"),
        ("item", "开展法治宣传进村入户活动，提高群众法治意识。"),
    ]


def text_of(blocks: list[tuple]) -> str:
    """The report as a .txt file: a table as lines of cells separated by two spaces."""
    lines = []
    for block in blocks:
        if block[0] == "table":
            lines.append(block[1])
            lines.extend("  ".join(row) for row in block[2])
        else:
            lines.append(block[1])
    return "\n".join(lines) + "\n"


def markdown_of(blocks: list[tuple], front: str = "") -> str:
    """The report as curated Markdown: a pipe table, a bulleted list, a bold phrase."""
    lines = [front] if front else []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            lines += [f"# {block[1]}", ""]
        elif kind == "table":
            rows = block[2]
            lines += [f"**{block[1]}**", "", "| " + " | ".join(rows[0]) + " |",
                      "|" + "---|" * len(rows[0])]
            lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
            lines.append("")
        elif kind == "item":
            lines.append(f"- {block[1]}")
        else:
            lines += [block[1], ""]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Word
def docx_of(blocks: list[tuple], header: str = "", heading_styles: bool = True) -> bytes:
    """The report as a .docx: the title in the Title style, the top-level headings in
    Heading 1, list items in List Bullet, the table as a Word table with a header row."""
    import docx

    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for block in blocks:
        kind = block[0]
        if kind == "title":
            document.add_paragraph(block[1], style="Title")
        elif kind == "table":
            document.add_paragraph(block[1])
            rows = block[2]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        elif kind == "item":
            document.add_paragraph(block[1], style="List Bullet")
        elif heading_styles and block[1][:2] in ("一、", "二、", "三、", "四、"):
            document.add_paragraph(block[1], style="Heading 1")
        else:
            document.add_paragraph(block[1])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(size: int = 2 * 1024 ** 3) -> bytes:
    """A .docx-looking zip whose document part inflates to `size` bytes of zeros (a few MB
    on disk): written by streaming, so the test never holds it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types '
                         'xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()


# ---------------------------------------------------------------- PDF
def _fonts(kind: str) -> str:
    from reportlab.pdfbase import pdfmetrics

    if kind == "cid":  # a standard Adobe-GB1 font, not embedded: no ToUnicode map
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("WQY", str(CJK_TTF), subfontIndex=0))
    return "WQY"


def pdf_of(blocks: list[tuple], *, font: str = "ttf", columns: int = 1, header: str = "青山镇人民政府",
           page_numbers: str = "dash", repeat: int = 1) -> bytes:
    """The report as a PDF with a text layer: a running header and a page number on every
    page (「— 2 —」 or 「第 2 页 共 3 页」), in one or two columns; the table ruled.
    `font`: "ttf" (embedded subset with a ToUnicode map), "cid" (the standard STSong font,
    no ToUnicode map), or "ttf-no-unicode" (the embedded font with its map removed, so the
    text cannot be read back). `repeat` repeats the body to make more pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

    name = _fonts("cid" if font == "cid" else "ttf")
    width, height = A4
    body = ParagraphStyle("body", fontName=name, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=28, alignment=1, firstLineIndent=0)
    heading = ParagraphStyle("heading", parent=body, firstLineIndent=0)

    def chrome(canvas, doc):
        canvas.saveState()
        canvas.setFont(name, 9)
        if header:
            canvas.drawCentredString(width / 2, height - 12 * mm, header)
            canvas.line(20 * mm, height - 14 * mm, width - 20 * mm, height - 14 * mm)
        number = doc.page
        label = f"— {number} —" if page_numbers == "dash" else f"第 {number} 页"
        canvas.drawCentredString(width / 2, 10 * mm, label)
        canvas.restoreState()

    margin = 20 * mm
    gap = 8 * mm
    column = (width - 2 * margin - (columns - 1) * gap) / columns
    frames = [Frame(margin + k * (column + gap), margin, column, height - 2 * margin, id=f"c{k}")
              for k in range(columns)]
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=A4, invariant=1, pageTemplates=[PageTemplate("p", frames, onPage=chrome)])
    story = []
    for _ in range(repeat):
        for block in blocks:
            kind = block[0]
            if kind == "title":
                story += [Paragraph(block[1], title), Spacer(1, 6 * mm)]
            elif kind == "table":
                story.append(Paragraph(block[1], heading))
                table = Table([list(row) for row in block[2]])
                table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), name), ("FONTSIZE", (0, 0), (-1, -1), 11),
                                           ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
                story += [table, Spacer(1, 4 * mm)]
            elif kind == "item":
                story.append(Paragraph("• " + block[1], heading))
            else:
                story.append(Paragraph(block[1], heading if len(block[1]) < 40 else body))
    doc.build(story)
    data = out.getvalue()
    if font == "ttf-no-unicode":
        # Same length, so the cross-reference offsets stay right; readers ignore the key.
        data = data.replace(b"/ToUnicode", b"/ToUnicodX")
    return data


def scan_pdf(pages: int = 2) -> bytes:
    """A scanned report: each page one grey image, no text at all."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    from PIL import Image

    image = Image.new("L", (200, 280), 200)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    for _ in range(pages):
        page.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, *A4)
        page.showPage()
    page.save()
    return out.getvalue()
