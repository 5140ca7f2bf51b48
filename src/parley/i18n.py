"""Interface languages.

Message catalogues are gettext ``.po`` files under ``parley/locale/<lang>/LC_MESSAGES/
parley.po`` that translators edit directly; they are read at start (no compile step).
``babel.cfg`` at the repository root drives extraction (``make messages``).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).with_name("locale")
RTL = frozenset({"ar", "he", "fa", "ur"})
NATIVE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "ru": "Русский",
    "zh": "中文",
}


@dataclass(frozen=True)
class Lang:
    """Everything a page needs to speak one language."""

    code: str
    translations: gettext.NullTranslations

    @property
    def direction(self) -> str:
        return "rtl" if self.code in RTL else "ltr"

    @property
    def babel(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str, **params: object) -> str:
        text = self.translations.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": n, **params}

    def datetime(self, value: datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
        """The date in ``fmt`` and the time to the minute: meetings start at 14:00, not 14:00:00."""
        if value is None:
            return ""
        zone = ZoneInfo(tz) if tz else None
        loc = self.babel
        pattern = (str(loc.datetime_formats[fmt]).replace("{1}", loc.date_formats[fmt].pattern)
                   .replace("{0}", loc.time_formats["short"].pattern))
        return format_datetime(value, pattern, tzinfo=zone, locale=loc)

    def date(self, value: date, fmt: str = "medium") -> str:
        """A day as this language writes it (7 Dec 2026, 7 déc. 2026), not ISO's 2026-12-07."""
        return format_date(value, fmt, locale=self.babel)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.babel)

    def list_joints(self, n: int) -> list[str]:
        """What goes between the n items of a list in this language ("English and French",
        "الإنجليزية والفرنسية", "英语和法语"), for lists whose items are marked up one by one."""
        if n < 2:
            return []
        patterns = self.babel.list_patterns["standard"]

        def joint(key: str) -> str:
            pattern: str = patterns[key]
            return pattern.split("{0}", 1)[1].split("{1}", 1)[0]

        if n == 2:
            return [joint("2")]
        return [joint("start"), *[joint("middle")] * (n - 3), joint("end")]


class Catalogues:
    """Loaded once at start; ``pick`` chooses per request."""

    def __init__(self, locales: Iterable[str], default: str, directory: Path = LOCALE_DIR) -> None:
        self.default = default
        self.locales = tuple(locales)
        self._langs = {code: Lang(code, _load(directory, code)) for code in self.locales}

    def get(self, code: str | None) -> Lang:
        return self._langs.get(code or "", self._langs[self.default])

    def pick(self, *preferred: str | None, accept_language: str | None = None) -> Lang:
        """First of: explicit preferences in order, then the Accept-Language header."""
        for code in preferred:
            if code:
                base = code.split("-")[0].split("_")[0].lower()
                if base in self._langs:
                    return self._langs[base]
        for code in parse_accept_language(accept_language or ""):
            if code in self._langs:
                return self._langs[code]
        return self._langs[self.default]


def parse_accept_language(header: str) -> list[str]:
    """Language bases from an Accept-Language header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        name, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = name.strip().split("-")[0].lower()
        if base and base != "*" and q > 0:
            weighted.append((-q, i, base))
    return [base for _, _, base in sorted(weighted)]


def _load(directory: Path, code: str) -> gettext.NullTranslations:
    po = directory / code / "LC_MESSAGES" / "parley.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def language_name(code: str, in_lang: str) -> str:
    """A language's name in the reader's language (``es`` in ``fr`` -> ``espagnol``)."""
    try:
        return Locale.parse(code).get_display_name(in_lang) or code
    except (UnknownLocaleError, ValueError):
        return code
