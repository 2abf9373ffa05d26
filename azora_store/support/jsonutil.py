"""JSON that carries money and time without loss.

Decimals become strings ("12.50") and datetimes ISO-8601 strings, so a payload
never turns an amount into a float. Output is canonical (sorted keys, no
spaces): the same object always gives the same bytes, which the security-event
hash chain and idempotency request hashes rely on.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Canonical compact JSON; Decimal and datetime become strings."""
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


_DECODER = json.JSONDecoder(parse_float=Decimal)  # built once: json.loads with a
# parse_float argument builds a new decoder per call (~20 us)


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers as Decimal (never float)."""
    return _DECODER.decode(text.decode() if isinstance(text, (bytes, bytearray)) else text)
