"""Reference data shared by dialogues and registration: countries, languages, demographics.

Codes are what we store; names are looked up per reader (country and language names come
from CLDR through Babel; age groups and education levels are the survey's, with its
translations; the few labels of our own are marked with ``N_`` so the catalogue extraction
finds them and templates translate them with ``_(label)``).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import cache

from babel import Locale, UnknownLocaleError

from parley.consultation.questionnaire import AGE_GROUPS as SURVEY_AGE_GROUPS
from parley.consultation.questionnaire import EDUCATION as SURVEY_EDUCATION
from parley.consultation.questionnaire import UNSTATED
from parley.consultation.survey_content import LABELS as SURVEY_LABELS


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


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

# The six official languages of the United Nations, offered first everywhere.
UN_LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")

# Age and education are asked in the survey's groups (and codes), so the dashboard can set
# dialogue participants beside survey respondents; "unstated" is the survey's "prefer not to
# say". Their labels are the survey's own translations (`demographic_label`).
AGE_GROUP_CODES: tuple[str, ...] = (*SURVEY_AGE_GROUPS, UNSTATED)
EDUCATION_CODES: tuple[str, ...] = (*SURVEY_EDUCATION, UNSTATED)

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
    ``education``) in the reader's language, as the default survey words it."""
    texts = SURVEY_LABELS.get(UNSTATED if code == UNSTATED else f"{field}.{code}")
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
