"""Reference data below both domains (dialogues and registration in `handlers`, the survey
and its analysis in `consultation`): countries, languages, time zones, demographic groups.

Codes are what we store; names are looked up per reader (country and language names come
from CLDR through Babel; age groups and education levels are asked in the same groups by the
survey and the dialogue registration, labelled here in the six UN languages; the few labels
of our own are marked with ``N_`` so the catalogue extraction finds them and templates
translate them with ``_(label)``).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import cache

from babel import Locale, UnknownLocaleError


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


# The six official languages of the United Nations, offered first everywhere.
UN_LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
# The order texts written in all six are given in (English first: it is the fallback).
TEXT_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "ar", "ru", "zh")


def un_texts(en: str, fr: str, es: str, ar: str, ru: str, zh: str) -> dict[str, str]:
    """One text in the six UN languages, keyed by language code."""
    return dict(zip(TEXT_LANGUAGES, (en, fr, es, ar, ru, zh), strict=True))


# Demographic groups, asked the same way by the survey and by dialogue registration so the
# dashboard can set participants beside respondents. "unstated": "prefer not to say".
UNSTATED = "unstated"
AGE_GROUPS = ("under-18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-plus")
EDUCATION = ("primary", "secondary", "vocational", "university")
DEMOGRAPHIC_LABELS: dict[str, dict[str, str]] = {
    "age_group.under-18": un_texts("Under 18", "Moins de 18 ans", "Menos de 18 años", "أقل من 18 سنة",
                                   "Младше 18 лет", "18岁以下"),
    "age_group.18-24": un_texts("18 to 24", "18 à 24 ans", "De 18 a 24 años", "من 18 إلى 24 سنة", "18–24 года",
                                "18至24岁"),
    "age_group.25-34": un_texts("25 to 34", "25 à 34 ans", "De 25 a 34 años", "من 25 إلى 34 سنة", "25–34 года",
                                "25至34岁"),
    "age_group.35-44": un_texts("35 to 44", "35 à 44 ans", "De 35 a 44 años", "من 35 إلى 44 سنة", "35–44 года",
                                "35至44岁"),
    "age_group.45-54": un_texts("45 to 54", "45 à 54 ans", "De 45 a 54 años", "من 45 إلى 54 سنة", "45–54 года",
                                "45至54岁"),
    "age_group.55-64": un_texts("55 to 64", "55 à 64 ans", "De 55 a 64 años", "من 55 إلى 64 سنة", "55–64 года",
                                "55至64岁"),
    "age_group.65-plus": un_texts("65 or over", "65 ans ou plus", "65 años o más", "65 سنة فأكثر",
                                  "65 лет и старше", "65岁及以上"),
    "education.primary": un_texts("Primary school or less", "École primaire ou moins", "Primaria o menos",
                                  "المرحلة الابتدائية أو أقل", "Начальное или ниже", "小学或以下"),
    "education.secondary": un_texts("Secondary school", "École secondaire", "Secundaria", "المرحلة الثانوية",
                                     "Среднее", "中学"),
    "education.vocational": un_texts("Vocational or technical training", "Formation professionnelle ou technique",
                                     "Formación profesional o técnica", "تدريب مهني أو تقني",
                                     "Профессионально-техническое", "职业或技术培训"),
    "education.university": un_texts("University or higher", "Université ou plus", "Universidad o superior",
                                     "جامعي أو أعلى", "Высшее", "大学或以上"),
    UNSTATED: un_texts("Prefer not to say", "Je préfère ne pas répondre", "Prefiero no decirlo",
                       "أفضّل عدم الإجابة", "Предпочитаю не отвечать", "不愿透露"),
}


# ISO 3166-1 alpha-2, the officially assigned codes (CLDR's extra regions such as EU or
# XK are left out so the list matches what other systems expect).
_ISO_3166 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES: frozenset[str] = frozenset(_ISO_3166.split())

# What registration accepts: the groups, or "prefer not to say".
AGE_GROUP_CODES: tuple[str, ...] = (*AGE_GROUPS, UNSTATED)
EDUCATION_CODES: tuple[str, ...] = (*EDUCATION, UNSTATED)

GENDERS: tuple[tuple[str, str], ...] = (
    ("woman", N_("Woman")),
    ("man", N_("Man")),
    ("non_binary", N_("Non-binary")),
    ("other", N_("Another gender")),
    ("undisclosed", N_("Prefer not to say")),
)

GENDER_CODES = frozenset(code for code, _ in GENDERS)


def demographic_label(field: str, code: str, locale: str) -> str:
    """The label of an age group or education code (``field`` is ``age_group`` or
    ``education``) in the reader's language."""
    texts = DEMOGRAPHIC_LABELS.get(UNSTATED if code == UNSTATED else f"{field}.{code}")
    if not texts:
        return code
    return texts.get(locale.split("-")[0]) or texts["en"]


def age_groups(locale: str) -> list[tuple[str, str]]:
    return [(code, demographic_label("age_group", code, locale)) for code in AGE_GROUP_CODES]


def education_levels(locale: str) -> list[tuple[str, str]]:
    return [(code, demographic_label("education", code, locale)) for code in EDUCATION_CODES]


_LANG_RE = re.compile(r"^([a-z]{2,3})(?:-([A-Z][a-z]{3}))?(?:-([A-Z]{2}|[0-9]{3}))?$")


def _babel(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@cache
def _known_languages() -> frozenset[str]:
    return frozenset(Locale("en").languages)


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (for validation and the form's list)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def is_time_zone(name: str) -> bool:
    return name in _time_zone_set()


@cache
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def normalise_language(code: str) -> str | None:
    """A BCP 47 tag in canonical case (``pt_br`` -> ``pt-BR``), or None if it is not one
    we can name. Only language, optional script and optional region are accepted."""
    parts = code.strip().replace("_", "-").split("-")
    if not parts or not parts[0] or len(code) > 16:
        return None
    canon = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4:
            canon.append(part.title())
        else:
            canon.append(part.upper())
    tag = "-".join(canon)
    if not _LANG_RE.match(tag) or canon[0] not in _known_languages():
        return None
    return tag


def language_label(code: str, locale: str) -> str:
    """A language's name in the reader's language (``es`` in ``fr`` -> ``espagnol``)."""
    loc = _babel(locale)
    if "-" not in code and code in loc.languages:
        # Not through Locale.parse: it would add likely subtags ("tl" -> "Filipino (Philippines)").
        return str(loc.languages[code])
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(loc)
    except (UnknownLocaleError, ValueError):
        name = None
    return name or str(loc.languages.get(code.split("-")[0], code))


def country_name(code: str, locale: str) -> str:
    return str(_babel(locale).territories.get(code, code))


def countries(locale: str) -> list[tuple[str, str]]:
    """(code, localised name) for every country, in the reader's alphabetical order."""
    names = _babel(locale).territories
    return sorted(((c, names.get(c, c)) for c in COUNTRY_CODES), key=lambda item: _sort_key(item[1]))


def _sort_key(text: str) -> str:
    # Good enough without ICU: compare letters without their accents, case-insensitively.
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).casefold()


def un_languages(locale: str) -> list[tuple[str, str]]:
    return [(code, language_label(code, locale)) for code in UN_LANGUAGES]
