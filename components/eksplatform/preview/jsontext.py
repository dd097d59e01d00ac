"""JSON text as ``json.dumps(value, indent=2, sort_keys=True)`` writes it, through ``orjson``.

``preview.json`` holds every input and output of every resource (megabytes for a fleet), and the
standard library encodes with an indent in pure Python: about a tenth of a fleet preview.
``orjson`` writes the same document in C, several times faster, and the text is the same bytes
whenever the document is ASCII and has no float the two spell differently. The decision is made
on orjson's own output, so every other document still goes through the standard library:

* non-ASCII text, or DEL (``json`` escapes them as ``\\uXXXX``, orjson writes them raw);
* a float below 1e-4 (``json`` writes ``1e-05``, orjson ``0.00001`` or ``1e-5``): a number
  token in the output starting ``0.0000`` or with ``e-`` sends it to ``json``;
* NaN and infinities (``json`` writes ``NaN``, orjson ``null``): :class:`NonFinite` marks them
  (``stack_output.display`` returns one), orjson refuses the float subclass and ``json`` writes it
  as before; so do integers beyond 64 bits and keys that are not strings.

The cost: a document that is not plain ASCII pays for orjson's attempt as well (rare: names and
tags are ASCII). ``tests/preview/test_jsontext.py`` compares both on a corpus of edge values.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import orjson

# A number token (at the start, after an indent or after a key) spelled with a negative exponent
# or as 0.0000..., or a DEL anywhere. Text inside strings never starts a line (newlines are
# escaped) and a quote inside a string is escaped, so ``": `` there reads ``\": `` (a false
# positive at worst: then json writes it).
_STDLIB_SPELLS_DIFFERENTLY: Final = re.compile(
    rb'(?:\A|\n *|": )-?(?:0\.0000|[0-9][0-9.]*e-)|\x7f'
)


class NonFinite(float):
    """NaN or an infinity in a document to encode: ``json`` writes it as a float, orjson
    refuses it (the document goes to ``json``)."""

    __slots__ = ()


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, sort_keys=True)``, the same text."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except TypeError:  # NonFinite, big integers, non-string keys, unknown types
        pass
    else:
        if raw.isascii() and _STDLIB_SPELLS_DIFFERENTLY.search(raw) is None:
            return raw.decode("ascii")
    return json.dumps(value, indent=2, sort_keys=True)
