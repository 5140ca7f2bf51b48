"""UN M49 regions for ISO 3166-1 alpha-2 country codes, and country names per language.

Results are broken down by the five M49 regions; the country is what respondents give, the
region is derived so it can never disagree with it. Names come from Babel (CLDR), so every
interface language gets them without a translation step.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError

UNKNOWN_COUNTRY = "ZZ"
UNKNOWN_REGION = "unknown"

# M49 code of each region, for names from CLDR.
REGION_M49 = {
    "africa": "002",
    "americas": "019",
    "asia": "142",
    "europe": "150",
    "oceania": "009",
}

_MEMBERS = {
    "africa": (
        # Northern Africa
        "DZ EG LY MA SD TN EH "
        # Eastern Africa
        "IO BI KM DJ ER ET TF KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW "
        # Middle Africa
        "AO CM CF TD CG CD GQ GA ST "
        # Southern Africa
        "BW SZ LS NA ZA "
        # Western Africa
        "BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN SL TG"
    ),
    "americas": (
        # Caribbean
        "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI "
        # Central America
        "BZ CR SV GT HN MX NI PA "
        # South America
        "AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE "
        # Northern America
        "BM CA GL PM US"
    ),
    "asia": (
        # Central Asia
        "KZ KG TJ TM UZ "
        # Eastern Asia
        "CN HK MO KP JP MN KR TW "
        # South-eastern Asia
        "BN KH ID LA MY MM PH SG TH TL VN "
        # Southern Asia
        "AF BD BT IN IR MV NP PK LK "
        # Western Asia
        "AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE"
    ),
    "europe": (
        # Eastern Europe
        "BY BG CZ HU PL MD RO RU SK UA "
        # Northern Europe
        "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB "
        # Southern Europe
        "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES XK "
        # Western Europe
        "AT BE FR DE LI LU MC NL CH"
    ),
    "oceania": (
        # Australia and New Zealand
        "AU CX CC HM NZ NF "
        # Melanesia
        "FJ NC PG SB VU "
        # Micronesia
        "GU KI MH FM NR MP PW UM "
        # Polynesia
        "AS CK PF NU PN WS TK TO TV WF"
    ),
}

COUNTRY_REGION: dict[str, str] = {
    code: region for region, codes in _MEMBERS.items() for code in codes.split()
}
# Antarctica belongs to no M49 region.
COUNTRY_REGION["AQ"] = UNKNOWN_REGION
COUNTRY_REGION[UNKNOWN_COUNTRY] = UNKNOWN_REGION

REGIONS: tuple[str, ...] = (*REGION_M49, UNKNOWN_REGION)
COUNTRIES: frozenset[str] = frozenset(COUNTRY_REGION)


def region_of(country: str) -> str:
    return COUNTRY_REGION.get(country.upper(), UNKNOWN_REGION)


def countries_in(region: str) -> tuple[str, ...]:
    return tuple(sorted(c for c, r in COUNTRY_REGION.items() if r == region))


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_name(code: str, lang: str) -> str:
    return _country_names(lang).get(code, code)


def region_name(region: str, lang: str) -> str:
    m49 = REGION_M49.get(region, "ZZ")
    return str(_locale(lang).territories.get(m49, region))


@cache
def _country_names(lang: str) -> dict[str, str]:
    territories = _locale(lang).territories
    names = {code: str(territories.get(code, code)) for code in COUNTRIES}
    names[UNKNOWN_COUNTRY] = str(territories.get("ZZ", "—"))
    return names


@cache
def country_choices(lang: str) -> tuple[tuple[str, str], ...]:
    """(code, name) for a country picker, sorted by name in that language."""
    names = _country_names(lang)
    return tuple(sorted(((c, n) for c, n in names.items() if c != UNKNOWN_COUNTRY), key=lambda cn: cn[1].casefold()))
