"""Consultation: the public survey, its dashboard and exports, and (in ``analysis/``) the
theme coding of free-text answers.

    respondent --form/API--> survey.Surveys.submit --> survey_responses (+ survey_texts)
                                                   \\-> survey_rollups (same transaction)
    staff --/dashboard--> dashboard.Dashboard --> rollups (fast) | responses (any filter)
    staff --exports-----> export (CSV / Parquet, streamed, no personal data)
"""
