"""Which translator takes which language pair, decided from what the servers themselves report: LibreTranslate's
`GET /languages` (its installed Argos models) and the chat-completions server's `GET /v1/models` (whether the
configured model is served; such a model takes every pair LibreTranslate lacks). A server that was down at start is
asked again, at most every `RECHECK_SECONDS`, when a message needs it; a failing translation falls back to the
other server when it covers the pair.

`RoutedTranslator` is what the dispatcher holds as `translator`: it translates (the `Translator` interface) and
notices a client writing in another language than their setting (`translate_from`)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from bot.services.translation.base import TranslationError, same_language, server_code
from bot.services.translation.detection import LanguageDetector
from bot.services.translation.libretranslate import LibreTranslate
from bot.services.translation.llm import ChatTranslator

log = logging.getLogger("kimbot.translator")

RECHECK_SECONDS = 30.0
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Translated:
    """A message translated from `source`; `detected` when that is not the language the client chose."""

    text: str
    source: str
    detected: bool
    backend: str


@dataclass
class _Probe:
    """What one server reported, and when it was last asked."""

    known: bool = False  # it answered at least once
    asked_at: float = field(default=-1e9)
    languages: dict[str, frozenset[str]] = field(default_factory=dict)  # LibreTranslate: source → targets
    serves: bool = False  # chat completions: the model is listed


class RoutedTranslator:
    """LibreTranslate for the pairs its server lists, the language model for the rest."""

    def __init__(
        self,
        libre: LibreTranslate | None,
        llm: ChatTranslator | None,
        detector: LanguageDetector | None = None,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
    ):
        self.libre = libre
        self.llm = llm
        self.detector = detector
        self.recheck_seconds = recheck_seconds
        self._probes = {"libretranslate": _Probe(), "llm": _Probe()}
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ configuration the tests and ops read

    @property
    def timeout(self) -> float:
        return min(b.timeout for b in self._backends())

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        for backend in self._backends():
            backend.timeout = seconds

    def _backends(self) -> list[LibreTranslate | ChatTranslator]:
        return [b for b in (self.libre, self.llm) if b is not None]

    # ------------------------------------------------------------------ start-up and re-checks

    async def start(self) -> None:
        """Ask every server what it covers (at start-up); load the detector's models off the event loop."""
        await asyncio.gather(self._probe_libre(), self._probe_llm())
        if self.detector is not None:
            await asyncio.to_thread(self.detector.load)
        log.info("translation routes: %s", self.describe())

    async def _probe_libre(self) -> None:
        probe = self._probes["libretranslate"]
        if self.libre is None:
            return
        probe.asked_at = time.monotonic()
        try:
            probe.languages, probe.known = await self.libre.languages(), True
        except TranslationError:
            log.warning("LibreTranslate did not list its languages; asked again when needed")

    async def _probe_llm(self) -> None:
        probe = self._probes["llm"]
        if self.llm is None:
            return
        probe.asked_at = time.monotonic()
        try:
            probe.serves, probe.known = await self.llm.serves_model(), True
            if not probe.serves:
                log.warning("the chat-completions server does not list the model %s", self.llm.model)
        except TranslationError:
            log.warning("the chat-completions server did not answer; asked again when needed")

    async def _recheck(self) -> None:
        """Ask a server again that never answered (or did not serve the model), once the interval has passed."""
        now = time.monotonic()
        async with self._lock:
            libre, llm = self._probes["libretranslate"], self._probes["llm"]
            if self.libre is not None and not libre.known and now - libre.asked_at >= self.recheck_seconds:
                await self._probe_libre()
            if self.llm is not None and not llm.serves and now - llm.asked_at >= self.recheck_seconds:
                await self._probe_llm()

    # ------------------------------------------------------------------ routing

    def libre_covers(self, source: str, target: str) -> bool:
        listed = self._probes["libretranslate"].languages
        if source == AUTO:
            return server_code(target) in listed
        return server_code(target) in listed.get(server_code(source), frozenset())

    def routes(self, source: str, target: str) -> list[LibreTranslate | ChatTranslator]:
        """The backends for a pair, preferred first (the fallback second)."""
        chosen: list[LibreTranslate | ChatTranslator] = []
        if self.libre is not None and self.libre_covers(source, target):
            chosen.append(self.libre)
        if self.llm is not None and self._probes["llm"].serves and source != AUTO:
            chosen.append(self.llm)
        return chosen

    def describe(self) -> dict[str, str]:
        """Each client language → the backend that translates it into German (for logs and /healthz-like views)."""
        from bot.core.i18n import OFFICE_LOCALE, SUPPORTED_LOCALES

        shown = {}
        for locale in SUPPORTED_LOCALES:
            if locale != OFFICE_LOCALE:
                found = self.routes(locale, OFFICE_LOCALE)
                shown[locale] = found[0].name if found else "none"
        return shown

    # ------------------------------------------------------------------ translating

    async def translate(self, text: str, source: str, target: str) -> str:
        return (await self.translated(text, source, target)).text

    async def translated(self, text: str, source: str, target: str) -> Translated:
        if same_language(source, target) or not text.strip():
            return Translated(text, source, False, "none")
        await self._recheck()
        backends = self.routes(source, target)
        if not backends:
            raise TranslationError(f"no translator covers {source} → {target}")
        failure: TranslationError | None = None
        for backend in backends:
            try:
                return Translated(await backend.translate(text, source, target), source, False, backend.name)
            except TranslationError as exc:
                failure = exc
        raise failure or TranslationError("no translation")

    async def translate_from(self, text: str, setting: str | None, target: str) -> Translated:
        """A client's message into `target`: from the language it is detected in when that is, surely, not their
        setting (and `detected` says so), else from their setting."""
        found = self.detector.other_language(text, setting) if self.detector is not None else None
        source = found.language if found is not None else (setting or AUTO)
        if same_language(source, target):
            return Translated(text, source, found is not None, "none")
        result = await self.translated(text, source, target)
        return Translated(result.text, source, found is not None, result.backend)
