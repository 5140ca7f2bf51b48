"""Content-Disposition for names in any script: an ASCII filename for old clients, the real
name in filename* (RFC 6266 / RFC 8187), and nothing that could end the header."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from parley.web.downloads import attachment

pytestmark = pytest.mark.unit


def test_an_ascii_name_is_plain() -> None:
    assert attachment("00-meeting.opus") == 'attachment; filename="00-meeting.opus"'
    assert attachment("02-bruno-silva.opus", "02-bruno-silva.opus") == 'attachment; filename="02-bruno-silva.opus"'


def test_a_name_in_another_script_goes_in_filename_star() -> None:
    header = attachment("01-speaker.opus", "01 أمينة ديالو.opus")
    plain, star = header.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="01-speaker.opus"'
    assert unquote(star) == "01 أمينة ديالو.opus" and star.isascii() and " " not in star
    assert unquote(attachment("03-elodie.opus", 'Élodie "Lo"; x.opus').split("''")[1]) == 'Élodie "Lo"; x.opus'


@pytest.mark.parametrize("bad", ['a"b.opus', "a\r\nX-Evil: 1", "", "é.opus", "a;b"])
def test_the_fallback_must_be_safe_ascii(bad: str) -> None:
    with pytest.raises(ValueError):
        attachment(bad, "x")
