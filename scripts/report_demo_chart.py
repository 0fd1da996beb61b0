"""Draw the README's report chart from demo data: a year of counted events for the example county (Kreis
Euskirchen), through the same path as /report (events → cells → figures → protected sheets → chart).

    .venv/bin/python scripts/report_demo_chart.py        # writes docs/report-clients.png

The figures are made up (a fixed random seed), the county is the example file's; nothing personal is involved.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.config import Settings  # noqa: E402
from bot.core.county import load_county  # noqa: E402
from bot.db.engine import create_engine, create_session_factory  # noqa: E402
from bot.db.migrate import upgrade_async  # noqa: E402
from bot.jobs.reporting import ReportJobs  # noqa: E402
from bot.services.reporting import events, periods, rollup  # noqa: E402

OUT = ROOT / "docs" / "report-clients.png"
# Demo languages with weights like KIM's clients: Arabic, Ukrainian, Persian/Dari, Pashto, Russian, Turkish, …
LANGUAGES = {"ar": 30, "uk": 24, "fa": 12, "prs": 6, "ps": 5, "ru": 8, "tr": 7, "ku": 4, "ti": 3, "so": 2}


async def main() -> None:
    county = load_county(None)
    towns = [m.key for m in county.municipalities]
    rnd = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/demo.db"
        await upgrade_async(url)
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        year = periods.year(2026)
        async with sessions() as session, session.begin():
            for month in year.months():
                when = datetime.combine(periods.first_day(month), datetime.min.time(), tzinfo=UTC).replace(day=10)
                for language, weight in LANGUAGES.items():
                    for town in towns:
                        cases = max(0, round(rnd.gauss(weight / 3, weight / 6)))
                        if cases:
                            await events.record(
                                session, "active_case", when=when, language=language, municipality=town, amount=cases
                            )
            moved = await rollup.roll_up(session)
        settings = Settings(DATABASE_URL=url, KIMBOT_DATA_DIR=Path(tmp) / "var", _env_file=None)  # type: ignore[call-arg]
        report = await ReportJobs(sessions, settings, county).build(year, now=datetime(2027, 1, 2, tzinfo=UTC))
        await engine.dispose()
    image = dict(report.charts)["clients"]
    assert image.startswith(b"\x89PNG")
    OUT.write_bytes(image)
    print(f"{moved} demo cells → {OUT.relative_to(ROOT)} ({len(image) // 1024} KB)")


if __name__ == "__main__":
    asyncio.run(main())
