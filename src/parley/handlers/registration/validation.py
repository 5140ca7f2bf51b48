"""A registration form checked against the dialogue: every field that needs attention is
named at once (``InvalidInput.fields``), and what passes comes back cleaned. Age group and
education use the survey's codes (`parley.reference`), so the dashboard breaks down
dialogue participants and survey respondents alike.
"""

from __future__ import annotations

from parley.errors import InvalidInput
from parley.handlers.accounts import check_display_name, normalise_email
from parley.handlers.dialogues import clean_text
from parley.handlers.registration.rules import flag
from parley.handlers.registration.views import RegistrationInput
from parley.reference import AGE_GROUP_CODES, COUNTRY_CODES, EDUCATION_CODES, GENDER_CODES
from parley.storage.stores.dialogues import DialogueInfo


def validate(data: RegistrationInput, d: DialogueInfo, *, anonymous: bool) -> dict[str, str]:
    """The cleaned fields; ``display_name`` and ``email`` only from someone not logged in
    (a logged-in person's name only when they gave one)."""
    errors: dict[str, str] = {}
    out: dict[str, str] = {}
    name = clean_text(data.display_name)
    if name is None:
        errors["display_name"] = "invalid"
    elif name or anonymous:
        try:
            out["display_name"] = check_display_name(name)
        except InvalidInput:
            errors["display_name"] = "length"
    if anonymous:
        try:
            out["email"] = normalise_email(clean_text(data.email) or "")
        except InvalidInput:
            errors["email"] = "invalid"
    language = clean_text(data.preferred_language) or ""
    if language not in d.languages:
        errors["preferred_language"] = "not_offered"
    out["preferred_language"] = language
    country = (clean_text(data.country) or "").upper()
    if country not in COUNTRY_CODES:
        errors["country"] = "unknown_country"
    out["country"] = country
    age = clean_text(data.age_group) or ""
    if age not in AGE_GROUP_CODES:
        errors["age_group"] = "invalid"
    out["age_group"] = age
    gender = clean_text(data.gender) or ""
    if gender not in GENDER_CODES:
        errors["gender"] = "invalid"
    out["gender"] = gender
    education = clean_text(data.education) or ""
    if education not in EDUCATION_CODES:
        errors["education"] = "invalid"
    out["education"] = education
    if not flag(data.consent_participate):
        errors["consent_participate"] = "required"
    if errors:
        raise InvalidInput("Some fields need attention.", fields=errors)
    return out
