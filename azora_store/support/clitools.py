"""Pieces shared by every ``azora-store`` command group."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click

from ..backends import DEFAULT_URL, URL_ENV


def db_option(command: Callable[..., Any] | None = None, *, must_exist: bool = True
              ) -> Any:
    """Add ``--db URL`` to a command and hand it an open Store as ``store``.

    The database must already exist unless ``must_exist=False`` (the commands
    that create it: init, migrate up, seed): a mistyped SQLite path is an error
    naming the file, and no empty file is left behind."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @click.option("--db", "url", envvar=URL_ENV, default=DEFAULT_URL, show_default=True,
                      metavar="URL", help=f"Database URL (or ${URL_ENV}).")
        @functools.wraps(command)
        def wrapper(url: str, **kwargs: Any) -> Any:
            from ..store import open_store

            store = open_store(url, create=not must_exist)
            try:
                return command(store=store, **kwargs)
            finally:
                store.close()

        return wrapper

    return decorate(command) if command is not None else decorate


def echo_err(message: str) -> None:
    click.echo(message, err=True)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Duration(click.ParamType):
    """``30s``, ``15m``, ``12h``, ``7d``, ``2w`` -> timedelta."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a duration such as 30s, 15m, 12h, 7d or 2w",
                      param, ctx)
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
