"""The public survey: validating answers, idempotent submission, consent, withdrawal, and
versioned editing of the questions.

Consent, as implemented:

* Consent to analysis is a required yes/no choice. **Yes**: the response is stored and
  counted. **No**: nothing the respondent answered is kept, not even demographics; a receipt
  records only that a response arrived (shown as "declined" in participation figures).
* Free text (open answers, "other" answers) is stored only with consent to analysis, is the
  input of theme coding (`Surveys.texts`), and is exported or quoted only when the respondent
  also ticked the separate quotation consent.
* Withdrawal deletes the response, its free text (and so the text's theme coding) and its
  counts in every rollup, themes included, in one transaction; exports and dashboards read
  only what remains.

Idempotency: every submission carries a client key (hidden form field, or the API's
``Idempotency-Key`` header). Its hash is unique per survey, so a retry finds the first
result and returns it (same withdrawal code, nothing counted twice). Keys from API tokens
are scoped to the token's user, so two gateways cannot collide.

Withdrawal codes are not stored: a code is the response id with an HMAC tag, so a retried
submission can show the same code again and the database holds nothing that could link a
code to a person.

    service.py      Surveys: builds the parts below and hands out their calls
    loading.py      the current version and every earlier one
    validation.py   answers as typed -> a validated submission
    submitting.py   idempotent, group-committed storing
    withdrawal.py   withdrawal codes and withdrawing
    editing.py      who may edit and see results; saving a new version
    texts.py        consented free text for theme coding
    views.py, options.py, days.py   the values passed around, the settings, day numbers
"""

from parley.consultation.survey.days import EPOCH, day_date, day_number, month_of, week_start
from parley.consultation.survey.editing import EDITORS, VIEWERS, Editing, check_editor, check_viewer
from parley.consultation.survey.loading import Loader
from parley.consultation.survey.options import SurveyOptions
from parley.consultation.survey.service import Surveys
from parley.consultation.survey.submitting import GROUP_COMMIT_MAX, KEY_RE, Submitter, scoped_key_hash
from parley.consultation.survey.texts import Texts
from parley.consultation.survey.validation import CHANNEL_RE, Validator, clean_text
from parley.consultation.survey.views import LoadedSurvey, RawSubmission, Receipt, Status, Submission, TextAnswer
from parley.consultation.survey.withdrawal import CODE_LEN, CROCKFORD, WithdrawalCodes, Withdrawals
from parley.reference import N_

__all__ = [
    "CHANNEL_RE",
    "CODE_LEN",
    "CROCKFORD",
    "EDITORS",
    "EPOCH",
    "Editing",
    "GROUP_COMMIT_MAX",
    "KEY_RE",
    "LoadedSurvey",
    "Loader",
    "N_",
    "RawSubmission",
    "Receipt",
    "Status",
    "Submission",
    "Submitter",
    "SurveyOptions",
    "Surveys",
    "TextAnswer",
    "Texts",
    "VIEWERS",
    "Validator",
    "WithdrawalCodes",
    "Withdrawals",
    "check_editor",
    "check_viewer",
    "clean_text",
    "day_date",
    "day_number",
    "month_of",
    "scoped_key_hash",
    "week_start",
]
