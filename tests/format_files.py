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


def html_of(blocks: list[tuple]) -> str:
    """The report as a saved 信息公开 page: a metadata table and navigation around the
    article, the table as an HTML table with a caption and heading cells."""
    body = []
    title = blocks[0][1]
    for block in blocks[1:]:
        if block[0] == "table":
            rows = block[2]
            head = "".join(f"<th>{cell}</th>" for cell in rows[0])
            data = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows[1:])
            body.append(f"<table><caption>{block[1]}</caption><thead><tr>{head}</tr></thead><tbody>{data}</tbody></table>")
        else:
            body.append(f"<p>{block[1]}</p>")
    article = "\n".join(body)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head><body>\n'
            f'<div class="nav"><a href="/">首页</a> <a href="/xxgk/">信息公开</a></div>\n'
            f'<div class="title"><h1>{title}</h1></div>\n'
            f'<div class="TRS_Editor">\n{article}\n</div>\n'
            f'<div class="footer">网站标识码：0000000000</div>\n</body></html>\n')


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
           page_numbers: str = "dash", repeat: int = 1, bullets: bool = True, break_after: int | None = None) -> bytes:
    """The report as a PDF with a text layer: a running header and a page number on every
    page (「— 2 —」 or 「第 2 页 共 3 页」), in one or two columns; the table ruled.
    `font`: "ttf" (embedded subset with a ToUnicode map), "cid" (the standard STSong font,
    no ToUnicode map), or "ttf-no-unicode" (the embedded font with its map removed, so the
    text cannot be read back). `repeat` repeats the body to make more pages; `break_after`:
    a page break after that block; `bullets`: list items with a 「•」."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle

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
        for k, block in enumerate(blocks):
            kind = block[0]
            if k and k - 1 == break_after:
                story.append(PageBreak())
            if kind == "title":
                story += [Paragraph(block[1], title), Spacer(1, 6 * mm)]
            elif kind == "table":
                story.append(Paragraph(block[1], heading))
                table = Table([list(row) for row in block[2]])
                table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), name), ("FONTSIZE", (0, 0), (-1, -1), 11),
                                           ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
                story += [table, Spacer(1, 4 * mm)]
            elif kind == "item":
                story.append(Paragraph(("• " if bullets else "") + block[1], heading))
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


# ---------------------------------------------------------------- Word 97-2003
def doc_of(blocks: list[tuple]) -> bytes:
    """The report as a minimal Word 97 binary document (.doc): a compound file with a
    WordDocument stream (the FIB and the text as UTF-16) and a 1Table stream holding the
    piece table. No formatting: a table's rows are paragraphs of tab-separated cells."""
    import struct

    paragraphs = []
    for block in blocks:
        if block[0] == "table":
            paragraphs.append(block[1])
            paragraphs.extend("\t".join(row) for row in block[2])
        else:
            paragraphs.append(block[1])
    text = "\r".join(paragraphs) + "\r"
    text_fc = 0x800
    body = text.encode("utf-16-le")
    chars = len(text)
    # The piece table: one piece of UTF-16 text (fCompressed clear) covering every character.
    plc = struct.pack("<II", 0, chars) + struct.pack("<HIH", 0, text_fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    table = clx.ljust(4096, b"\0")
    fc_lcb = [(0, 0)] * 93
    fc_lcb[33] = (0, len(clx))  # fcClx / lcbClx, in the table stream
    stream_size = max(4096, text_fc + len(body))
    # The last two words are the old fcMin/fcMac (where the text starts and ends), which
    # Word still writes and some readers (catdoc) go by.
    fib = struct.pack("<HHHHHHHIBBHHII", 0xA5EC, 0x00C1, 0, 0x0804, 0, (1 << 9) | (1 << 12) | (1 << 14),
                      0x00BF, 0, 0, 0, 0, 0, text_fc, text_fc + len(body))
    rg_w = [0] * 14
    rg_w[13] = 0x0804  # lidFE
    rg_lw = [0] * 22
    rg_lw[0] = stream_size  # cbMac
    rg_lw[3] = chars - 1  # ccpText: the main text, its last paragraph mark aside
    fib += struct.pack("<H", 14) + struct.pack("<14H", *rg_w)
    fib += struct.pack("<H", 22) + struct.pack("<22i", *rg_lw)
    fib += struct.pack("<H", 93) + b"".join(struct.pack("<II", fc, lcb) for fc, lcb in fc_lcb)
    fib += struct.pack("<H", 0)
    word = (fib.ljust(text_fc, b"\0") + body).ljust(stream_size, b"\0")
    return _compound_file({"1Table": table, "WordDocument": word})


def _compound_file(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (512-byte sectors) holding `streams` (each at least 4096
    bytes, so none is in the mini stream), named in the order the directory tree sorts them."""
    import struct

    free, end, fat_mark = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    datas = [data + b"\0" * (-len(data) % 512) for data in streams.values()]
    data_sectors = sum(len(d) // 512 for d in datas)
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + 1 + data_sectors:
        fat_sectors += 1
    fat = [fat_mark] * fat_sectors + [end]  # the FAT sectors, then the directory's one sector
    starts = []
    for data in datas:
        first = len(fat)
        starts.append(first)
        count = len(data) // 512
        fat += [first + k + 1 for k in range(count - 1)] + [end]
    fat += [free] * (fat_sectors * 128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", free, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))

    names = list(streams)
    directory = entry("Root Entry", 5, 1, free, end, 0)
    for k, (name, data) in enumerate(zip(names, streams.values())):
        directory += entry(name, 2, free, k + 2 if k + 1 < len(names) else free, starts[k], len(data))
    directory = directory.ljust(512, b"\0")
    difat = list(range(fat_sectors)) + [free] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_sectors, fat_sectors, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + b"".join(datas)
