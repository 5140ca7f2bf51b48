"""Content-Disposition for downloads whose name a person typed (any script).

Browsers that read RFC 6266's ``filename*`` (all current ones) save the file under the UTF-8
name; ``filename`` carries an ASCII name for the rest. Both come from Parley, never from the
request, and the ASCII one is checked so a quote or a line break can never end the header.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_ASCII_NAME = re.compile(r"^[A-Za-z0-9._ -]{1,200}$")


def attachment(ascii_name: str, name: str | None = None) -> str:
    if not _ASCII_NAME.match(ascii_name):
        raise ValueError("the fallback file name must be plain ASCII")
    header = f'attachment; filename="{ascii_name}"'
    if name and name != ascii_name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
