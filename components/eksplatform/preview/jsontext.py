"""JSON text as ``json.dumps(value, indent=2, sort_keys=True)`` writes it, through ``orjson``.

``preview.json`` holds every input and output of every resource (megabytes for a fleet), and the
standard library encodes with an indent in pure Python: about a tenth of a fleet preview.
``orjson`` writes the same document in C, several times faster, and the text is the same bytes
whenever the document is ASCII and has no float the two spell differently. The decision is made
on orjson's own output, so every other document still goes through the standard library:

* non-ASCII text, or DEL (``json`` escapes them as ``\\uXXXX``, orjson writes them raw);
* a float below 1e-4 (``json`` writes ``1e-05``, orjson ``0.00001`` or ``1e-5``): a number
  token in the output starting ``0.0000`` or holding ``e-`` sends it to ``json``;
* NaN and infinities (``json`` writes ``NaN``, orjson ``null``): :class:`NonFinite` marks them
  (``stack_output.display`` returns one), orjson refuses the float subclass and ``json`` writes it
  as before; so do integers beyond 64 bits and keys that are not strings.

The cost: a document that is not plain ASCII pays for orjson's attempt as well (rare: names and
tags are ASCII). ``tests/preview/test_jsontext.py`` compares both on a corpus of edge values.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson


class NonFinite(float):
    """NaN or an infinity in a document to encode: ``json`` writes it as a float, orjson
    refuses it (the document goes to ``json``)."""

    __slots__ = ()


_NUMBER_BYTES: Final = frozenset(b"0123456789.-")
_SPACE, _NEWLINE, _COLON, _QUOTE = 0x20, 0x0A, 0x3A, 0x22


def _in_number_token(raw: bytes, at: int) -> bool:
    """Whether ``raw[at]`` continues a number token: what precedes it back to the token start is
    digits, dots and minus signs, and the token starts the document, a line (after its indent)
    or an object value (after ``": ``). Text inside a string never does, except after an
    escaped quote (``\\": ``): a false positive, which only costs speed."""
    i = at
    while i > 0 and raw[i - 1] in _NUMBER_BYTES:
        i -= 1
    if i == 0:
        return True
    if raw[i - 1] != _SPACE:
        return raw[i - 1] == _NEWLINE
    if i >= 3 and raw[i - 2] == _COLON and raw[i - 3] == _QUOTE:
        return True
    j = i - 1
    while j > 0 and raw[j - 1] == _SPACE:
        j -= 1
    return j == 0 or raw[j - 1] == _NEWLINE


def _spelled_differently(raw: bytes) -> bool:
    """Whether ``json.dumps`` spells this orjson text differently: a DEL anywhere, or a number
    token with a negative exponent or starting ``0.0000`` (found by substring search, then
    checked in place; digests such as ``3e-`` inside strings are not numbers)."""
    if b"\x7f" in raw:
        return True
    at = raw.find(b"e-")
    while at != -1:
        if at > 0 and raw[at - 1] in b"0123456789" and _in_number_token(raw, at):
            return True
        at = raw.find(b"e-", at + 2)
    at = raw.find(b"0.0000")
    while at != -1:
        if _in_number_token(raw, at):
            return True
        at = raw.find(b"0.0000", at + 1)
    return False


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, sort_keys=True)``, the same text."""
    return dumps_bytes(value).decode("ascii")


def dumps_bytes(value: Any) -> bytes:
    """The bytes of :func:`dumps` (ASCII: ``json.dumps`` escapes everything else), without
    decoding orjson's bytes to text and encoding them again."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except TypeError:  # NonFinite, big integers, non-string keys, unknown types
        pass
    else:
        if raw.isascii() and not _spelled_differently(raw):
            return raw
    return json.dumps(value, indent=2, sort_keys=True).encode("ascii")
