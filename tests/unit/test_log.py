import logging

import pytest

from parley.log import RedactSecrets

pytestmark = pytest.mark.unit


def test_personal_link_tokens_are_redacted_from_access_logs() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/p/SECRET.TOKEN.abc?x=1", "1.1", 303), None)
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert "SECRET" not in line
    assert "/p/…?x=1" in line
