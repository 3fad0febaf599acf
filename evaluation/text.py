"""Text normalisation for matching facts in Azerbaijani, Turkish and English.

Python's ``str.lower`` maps "I" to "i" and "İ" to "i" plus a combining dot, so
an Azerbaijani answer written in capitals would miss facts written in lower
case. We fold every form of the letter i (I, İ, ı, i) to one plain "i"; the
other Azerbaijani letters (ə, ö, ü, ğ, ş, ç) stay distinct because they change
the meaning of a word.
"""

from __future__ import annotations

import re
import unicodedata

_I_FOLD = str.maketrans({"I": "i", "İ": "i", "ı": "i"})
_KEEP_PUNCTUATION = ".,%/-"
_SEPARATORS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return ``text`` folded for matching: NFC, i-folded, case-folded, spaced."""
    text = unicodedata.normalize("NFC", text).translate(_I_FOLD).casefold()
    # casefold can itself produce a dotted i sequence; fold it once more.
    text = text.replace("i\u0307", "i")
    cleaned = [
        ch if ch.isalnum() or ch in _KEEP_PUNCTUATION or ch.isspace() else " "
        for ch in text
    ]
    return _SEPARATORS.sub(" ", "".join(cleaned)).strip()


def contains(haystack: str, needle: str) -> bool:
    """Whether the normalised ``needle`` occurs in the normalised ``haystack``."""
    target = normalize(needle)
    return bool(target) and target in normalize(haystack)
