"""Small cells: no output of the report shows a count from 1 to 4, so that nobody can be singled out.

Primary suppression: a count from 1 to 4 is shown as "< 5". Secondary suppression: where a total is shown and
exactly one of its parts is hidden, that part could be worked out from the total and the others – so the smallest
other part that is not zero is hidden as well, shown as "·" (the sign German official statistics use for "kept
secret"). A measure derived from counts (a rate, a median) is hidden ("·") when one of its counts is hidden.
Zero stays 0: it identifies nobody. Definitions and limits: docs/reporting.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SMALL = "< 5"
SECRET = "·"
THRESHOLD = 5
HIDDEN = (SMALL, SECRET)

Cell = int | float | str | None
Ref = tuple[int, int]  # (row, column)


@dataclass
class Column:
    header: str
    kind: str = "count"  # "label" | "count" | "measure"
    basis: tuple[int, ...] = ()  # measure columns: the count columns (same row) they are computed from
    number_format: str = "#,##0"


@dataclass
class Sheet:
    """One topic of the report: a title, columns and rows; shared by the workbook, the CSV files, the charts and
    the summary, so they all show the same (suppressed) numbers."""

    key: str  # file-name-safe, e.g. "languages"
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    total_row: bool = False  # the last row is the total of the rows above, column by column
    groups: list[tuple[Ref, list[Ref]]] = field(default_factory=list)  # (total, parts) besides the total row
    row_groups: list[tuple[int, list[int]]] = field(default_factory=list)  # (total column, part columns), every row


def is_small(value: Cell) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < THRESHOLD


def _groups(sheet: Sheet) -> list[tuple[Ref, list[Ref]]]:
    found = list(sheet.groups)
    for total_col, part_cols in sheet.row_groups:
        found += [((row, total_col), [(row, col) for col in part_cols]) for row in range(len(sheet.rows))]
    if sheet.total_row and len(sheet.rows) > 1:
        last = len(sheet.rows) - 1
        for col, column in enumerate(sheet.columns):
            if column.kind == "count":
                found.append(((last, col), [(row, col) for row in range(last)]))
    return found


def protect(sheet: Sheet) -> Sheet:
    """Apply primary and secondary suppression to the sheet's count cells and hide dependent measures."""
    rows = [list(row) for row in sheet.rows]
    for row in rows:
        for col, column in enumerate(sheet.columns):
            if column.kind == "count" and is_small(row[col]):
                row[col] = SMALL
    for _ in range(len(rows) + 1):  # hiding a part may expose another group's part; a few rounds settle it
        changed = False
        for (total_row, total_col), parts in _groups(sheet):
            if rows[total_row][total_col] in HIDDEN:
                continue
            hidden = [ref for ref in parts if rows[ref[0]][ref[1]] in HIDDEN]
            if len(hidden) != 1:
                continue
            visible = [ref for ref in parts if isinstance(rows[ref[0]][ref[1]], int) and rows[ref[0]][ref[1]]]
            if visible:
                r, c = min(visible, key=lambda ref: int(rows[ref[0]][ref[1]] or 0))
                rows[r][c] = SECRET
                changed = True
        if not changed:
            break
    for row in rows:
        for col, column in enumerate(sheet.columns):
            if column.kind == "measure" and any(row[b] in HIDDEN for b in column.basis):
                row[col] = SECRET
    return Sheet(sheet.key, sheet.title, sheet.columns, rows, sheet.total_row, sheet.groups, sheet.row_groups)


def count_cells(sheet: Sheet) -> list[Cell]:
    """Every count cell of the sheet (what the small-cell test looks at)."""
    return [row[col] for row in sheet.rows for col, column in enumerate(sheet.columns) if column.kind == "count"]
