"""The report as an Excel workbook (openpyxl) and as CSV files: one sheet per topic, the definitions last.

Numbers stay numbers (with a number format), hidden cells are text ("< 5", "·"); each sheet has its title and
the period above a frozen header row. The CSV files are for German spreadsheet programs: semicolons, decimal
commas, UTF-8 with a byte order mark.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.services.reporting.suppression import Cell, Sheet

HEADER_ROW = 4  # title, subtitle, an empty row, then the headers; the figures start below
MAX_TITLE = 31  # Excel's limit for a sheet's name


def sheet_name(sheet: Sheet) -> str:
    """The tab's name: the title without the characters Excel refuses there, cut to Excel's 31 characters."""
    return re.sub(r"[\\/?*\[\]:]+", "-", sheet.title)[:MAX_TITLE].strip(" -")


def workbook(sheets: list[Sheet], subtitle: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet_name(sheet))
        ws.cell(row=1, column=1, value=sheet.title).font = Font(bold=True, size=14)
        ws.cell(row=2, column=1, value=subtitle)
        for col, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=HEADER_ROW, column=col, value=column.header)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for index, row in enumerate(sheet.rows):
            last = sheet.total_row and index == len(sheet.rows) - 1
            for col, (value, column) in enumerate(zip(row, sheet.columns, strict=True), start=1):
                cell = ws.cell(row=HEADER_ROW + 1 + index, column=col, value=value)
                if isinstance(value, int | float):
                    cell.number_format = column.number_format
                elif column.kind != "label":
                    cell.alignment = Alignment(horizontal="right")
                if column.kind == "label" and len(sheet.columns) == 2 and col == 2:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if last:
                    cell.font = Font(bold=True)
        ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=2 if len(sheet.columns) > 2 else 1)
        for col, column in enumerate(sheet.columns, start=1):
            width = max([len(column.header), *(len(str(r[col - 1] or "")) for r in sheet.rows)]) + 2
            ws.column_dimensions[get_column_letter(col)].width = min(max(width, 10), 80)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def csv_text(sheet: Sheet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in sheet.columns])
    writer.writerows([_csv_value(v) for v in row] for row in sheet.rows)
    return buffer.getvalue()


def csv_zip(sheets: list[Sheet], stem: str) -> bytes:
    """A ZIP with one CSV file per sheet (`<stem>-<sheet>.csv`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            archive.writestr(f"{stem}-{sheet.key}.csv", "\ufeff" + csv_text(sheet))
    return buffer.getvalue()
