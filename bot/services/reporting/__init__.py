"""Programme reporting: anonymous figures counted as things happen, and the report built from them.

`events` is what the rest of kimbot calls (`record`, `record_duration`) inside its unit of work; `rollup` moves
counted events into their cells; `figures` reads a period's cells into plain numbers; `suppression` turns cells of
1–4 into "< 5"; `summary`, `charts`, `workbook` and `csv_export` render the figures for people. The definitions of
every figure are in docs/reporting.md. Nothing in this package imports aiogram or telegram.
"""
