"""falcon path converters of the API."""

from __future__ import annotations

import re

import falcon.routing

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


class IdConverter(falcon.routing.BaseConverter):
    """A row id in a path: ASCII digits only, within ``min``..``max``.

    falcon's ``int`` converter takes what Python's ``int()`` takes, so
    ``/api/jobs/+1``, ``/api/jobs/1_0`` and full-width digits (U+FF11 for 1) would
    all name a job; here they match no route (404)."""

    def __init__(self, min: int, max: int) -> None:
        self.minimum = min
        self.maximum = max

    def convert(self, value: str) -> int | None:
        if not _ASCII_DIGITS.fullmatch(value):
            return None
        number = int(value)
        return number if self.minimum <= number <= self.maximum else None
