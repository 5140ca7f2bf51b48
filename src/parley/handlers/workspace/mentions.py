"""Who a message mentions: ``@Display Name`` or ``@email-local-part`` as a whole word, so an
email address or a longer name never notifies the wrong person.
"""

from __future__ import annotations

from collections.abc import Iterable

from parley.storage.stores.accounts import Account

# The kind of notification a mention leaves.
MENTION = "mention"


def _mention_keys(user: Account) -> set[str]:
    keys = {user.display_name.casefold(), user.email.split("@", 1)[0].casefold()}
    return {k for k in keys if k}


def _mentioned_at(text: str, key: str) -> bool:
    """``@key`` as a whole word: not inside an email address, not the start of a longer name."""
    needle = "@" + key
    start = text.find(needle)
    while start != -1:
        before = text[start - 1] if start > 0 else " "
        end = start + len(needle)
        after = text[end] if end < len(text) else " "
        after2 = text[end + 1] if end + 1 < len(text) else " "
        word_before = before.isalnum() or before in "_.-+"
        word_after = after.isalnum() or after in "_-" or (after == "." and (after2.isalnum() or after2 == "_"))
        if not word_before and not word_after:
            return True
        start = text.find(needle, start + 1)
    return False


def find_mentions(body: str, members: Iterable[Account]) -> set[int]:
    """Members named as ``@Display Name`` or ``@email-local-part`` (case-insensitive)."""
    if "@" not in body:
        return set()
    text = body.casefold()
    return {m.id for m in members if any(_mentioned_at(text, key) for key in _mention_keys(m))}
