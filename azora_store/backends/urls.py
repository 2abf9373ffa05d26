"""Database URLs and their query options: parsed once, every value checked.

``DatabaseURL.parse`` reads ``scheme://user:password@host:port/db?option=value``;
``take_options`` converts a backend's options with the converters below, and
refuses unknown options and values outside what a converter accepts, naming
the option and its values or range.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import ConfigurationError


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``scheme://user:password@host:port/database?option=value`` URL."""

    raw: str
    scheme: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        if not isinstance(url, str) or "://" not in url:
            raise ConfigurationError(
                f"{url!r} is not a database URL: use sqlite:///path/to/file.db or "
                "postgresql://user@host:5432/dbname")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(
                f"{url!r} is not a valid database URL ({exc}): use sqlite:///path/to/file.db "
                "or postgresql://user@host:5432/dbname") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise ConfigurationError(f"{url!r} has no scheme: start it with sqlite:// or "
                                     "postgresql://")
        path = unquote(parts.path)
        return cls(raw=url, scheme=scheme,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   host=parts.hostname, port=port, database=path[1:] if path else "",
                   options=dict(parse_qsl(parts.query, keep_blank_values=True)))

    def redacted(self) -> str:
        """The URL with its password hidden, safe for logs and ``doctor``."""
        if not self.password:
            return self.raw
        return self.raw.replace(f":{self.password}@", ":***@", 1)


def take_options(url: DatabaseURL, known: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Convert the URL's query options with ``known`` converters (``one_of``,
    ``whole_number``, ...); refuse unknown options and values outside a
    converter's allowed set, naming the option and what it accepts."""
    unknown = sorted(set(url.options) - set(known))
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} in {url.redacted()}: "
            f"{url.scheme} accepts {', '.join(sorted(known))}")
    values = {}
    for name, raw in url.options.items():
        try:
            values[name] = known[name](raw)
        except ValueError as exc:
            allowed = f": {name} accepts {exc}" if str(exc) else ""
            raise ConfigurationError(f"option {name}={raw!r} in {url.redacted()} is not "
                                     f"a valid value{allowed}") from None
    return values


# Option converters for ``take_options``. Each raises ValueError whose message
# says what the option accepts.

_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def one_of(*allowed: str) -> Callable[[str], str]:
    """A word from ``allowed`` (any case); the lower-case word."""

    def convert(raw: str) -> str:
        if raw.lower() not in allowed:
            raise ValueError(f"one of {', '.join(allowed)}")
        return raw.lower()

    return convert


def whole_number(minimum: int, maximum: int, unit: str = "") -> Callable[[str], int]:
    """An integer written in ASCII digits, from ``minimum`` to ``maximum``."""

    def convert(raw: str) -> int:
        if not _WHOLE.fullmatch(raw) or not minimum <= int(raw) <= maximum:
            raise ValueError(f"a whole number from {minimum:,} to {maximum:,}{unit}")
        return int(raw)

    return convert


def seconds(minimum: float, maximum: float) -> Callable[[str], float]:
    """A number of seconds (digits, optionally a decimal point), in the range."""

    def convert(raw: str) -> float:
        if not _DECIMAL.fullmatch(raw) or not minimum <= float(raw) <= maximum:
            raise ValueError(f"a number of seconds from {minimum:g} to {maximum:g}")
        return float(raw)

    return convert


def printable(max_length: int) -> Callable[[str], str]:
    """Printable ASCII text of at most ``max_length`` characters."""

    def convert(raw: str) -> str:
        if len(raw) > max_length or not (raw.isascii() and raw.isprintable()):
            raise ValueError(f"printable ASCII text of at most {max_length} characters")
        return raw

    return convert
