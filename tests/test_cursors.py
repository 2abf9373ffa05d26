"""Search cursors are signed and checked key by key: a forged, edited or
truncated cursor is a ValidationError naming ``cursor`` (HTTP 422) on both
backends, never a database error and never the database's words."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from azora_store import open_store
from azora_store.crypto import KEY_ENV, default_cipher
from azora_store.errors import ValidationError
from azora_store.queries import SearchRequest, search_jobs
from tests.helpers import sql
from tests.test_api import World, error_of, unchanged, world  # noqa: F401 (fixture)
from tests.test_queries import board  # noqa: F401 (fixture)

#: What the database said when these reached SQL (issue 13): never shown again.
DATABASE_WORDS = ("overflow", "operator", "not supported", "nul", "smallint", "timestamp",
                  "sqlite", "psycopg", "integer", "syntax")


def fingerprint_of(text: str | None = None, limit: int = 2) -> str:
    return SearchRequest.build(text, (), "OPEN", None, None, None, limit).fingerprint


def unsigned(fingerprint: str, key: Any) -> str:
    """A cursor as the server made them before they were signed (base64 JSON)."""
    raw = json.dumps({"f": fingerprint, "k": key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Keys the issue found reaching SQL, and others of the same kind.
BAD_LISTING_KEYS = [
    [2**70, 1], ["2026-01-01 12:00:00", 2**70], ["2026-01-01 12:00:00", -1],
    [[1, 2], 1], [{"a": 1}, 1], ["2026-01-01 12:00:00", [1]], ["2026-01-01 12:00:00", {}],
    [0, 0], [1.5, 1], ["2026-01-01 12:00:00", 1.0], ["2026-01-01 12:00:00", True],
    ["2026-01-01\x0012:00:00", 1], ["x\x00", 1], ["zzz", 1], ["2026-13-01 12:00:00", 1],
    ["2026-01-01T12:00:00", 1], ["2026-01-01 12:00:00+00:00", 1],
    ["\uff12\uff10\uff12\uff16-01-01 12:00:00", 1],
    ["2026-01-01 12:00:00", "1"], [None, 1], ["2026-01-01 12:00:00"],
    ["2026-01-01 12:00:00", 1, 2], [],
]
BAD_TEXT_KEYS = [[2, 1], [True, 1], [-1, 1], ["0", 1], [0, 2**63], [0, "x"], [0, None],
                 [0, [1]], [0.0, 1], [0, "\x00"]]


def forged(store, text: str | None = None) -> list[str]:
    """Every forged cursor for the search ``text`` (None: the listing) with limit 2."""
    fp = fingerprint_of(text)
    keys = BAD_TEXT_KEYS if text else BAD_LISTING_KEYS
    codec = store.queries.cursors
    genuine = search_jobs(store, text=text, limit=2).next_cursor
    assert genuine, "the board must have a second page"
    payload, _, mac = genuine.partition(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        *(unsigned(fp, key) for key in keys),  # the old, unsigned form
        *(codec.sign(json.dumps({"f": fp, "k": key}).encode()) for key in keys),  # signed
        codec.sign(b'{"f": 1, "k": [0, 1]}'), codec.sign(b'[1, 2]'), codec.sign(b'"k"'),
        codec.sign(b"\xff\xfe"), codec.sign(b'{"f": "x"'),
        f"{payload}.{flipped}",  # a tampered signature
        f"{payload[:-4]}.{mac}",  # a tampered (truncated) payload
        genuine[:-3], genuine[: len(genuine) // 2], payload,  # truncated, or unsigned
        genuine + "\x00", "\x00", genuine.replace(".", "\x00"), genuine + "==", "." + mac,
        genuine + "." + mac, "é" + genuine, "x" * 1001,
    ]


def assert_refused(call) -> None:
    with pytest.raises(ValidationError) as refused:
        call()
    assert (refused.value.field, refused.value.rule) == ("cursor", "cursor")
    message = str(refused.value).lower()
    assert not [word for word in DATABASE_WORDS if word in message], message


@pytest.mark.usefixtures("board")
@pytest.mark.parametrize("text", [None, "pipeline"])
def test_every_forged_cursor_is_a_validation_error_naming_cursor(store, text) -> None:
    for cursor in forged(store, text):
        assert_refused(lambda cursor=cursor: search_jobs(store, text=text, limit=2,
                                                         cursor=cursor))
    for cursor in ([1, 2], {"k": 1}, 7, b"abc"):  # not even a string
        assert_refused(lambda cursor=cursor: search_jobs(store, text=text, limit=2,
                                                         cursor=cursor))


#: The issue's own forgeries (unsigned, as cursors were): 500s or silent before.
ISSUE_KEYS = [[2**70, 1], [[1, 2], 1], [{"a": 1}, 1], [0, 0], ["x\x00", 1], ["zzz", 1]]


@pytest.mark.usefixtures("board")
def test_the_issues_forged_cursors_are_refused(store) -> None:
    for key in ISSUE_KEYS:
        assert_refused(lambda key=key: search_jobs(store, limit=2,
                                                   cursor=unsigned(fingerprint_of(), key)))


def test_the_issues_forged_cursors_are_422_over_http(world: World) -> None:  # noqa: F811
    world.store.market.post_job(world.ann, "Second", "", "5.00", "USD", ["python"])
    for key in ISSUE_KEYS:
        cursor = unsigned(fingerprint_of(None, 1), key)
        response = world.call("GET", "/api/jobs", params={"limit": "1", "cursor": cursor})
        assert response.status_code == 422, (key, response.status_code, response.text)
        assert error_of(response)["field"] == "cursor"


@pytest.mark.usefixtures("board")
def test_genuine_cursors_still_page(store) -> None:
    for text in (None, "pipeline"):
        seen, cursor = [], None
        while True:
            page = search_jobs(store, text=text, limit=2, cursor=cursor)
            seen += [hit.id for hit in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
            assert cursor.count(".") == 1
        assert len(seen) == len(set(seen)) == (12 if text is None else 4)


def test_forged_cursors_over_http_are_422_naming_cursor(world: World) -> None:  # noqa: F811
    for n in range(5):
        world.store.market.post_job(world.ann, f"Pipeline {n}", "", "5.00", "USD", ["python"])
    for text in (None, "pipeline"):
        params = {"limit": "2", **({"text": text} if text else {})}
        for cursor in forged(world.store, text):
            if len(cursor) > 1000 or "\x00" in cursor:
                continue  # refused by the parameter's own rules (also 422, also `cursor`)
            with unchanged(world.store):
                response = world.call("GET", "/api/jobs", params={**params, "cursor": cursor})
            assert response.status_code == 422, (cursor, response.text)
            error = error_of(response)
            assert error["field"] == "cursor", (cursor, error)
            message = error["message"].lower()
            assert not [word for word in DATABASE_WORDS if word in message], message
    for cursor in ("x" * 1001, "a\x00b"):
        response = world.call("GET", "/api/jobs", params={"cursor": cursor})
        assert response.status_code == 422 and error_of(response)["field"] == "cursor"


@pytest.mark.usefixtures("board")
def test_the_key_is_the_databases_secret_without_a_field_key(store, db_url, monkeypatch) -> None:
    """Every process on one database accepts the others' cursors: without a field
    key they are signed with the database's own secret (migration 0015)."""
    secret = sql(store, "SELECT value FROM store_secrets WHERE name = 'cursor'")
    assert len(secret) == 1 and len(secret[0][0]) == 64
    with_field_key = search_jobs(store, limit=4).next_cursor
    monkeypatch.delenv(KEY_ENV)
    default_cipher.cache_clear()
    with open_store(db_url) as first, open_store(db_url) as second:
        cursor = search_jobs(first, limit=4).next_cursor
        assert cursor != with_field_key
        assert search_jobs(second, limit=4, cursor=cursor).items
        # Made under the field key: refused under the database's secret.
        assert_refused(lambda: search_jobs(second, limit=4, cursor=with_field_key))
        # Deleted by hand: a new secret is made, old cursors are refused.
        sql(store, "DELETE FROM store_secrets")
    with open_store(db_url) as third:
        assert_refused(lambda: search_jobs(third, limit=4, cursor=cursor))
        fresh = search_jobs(third, limit=4).next_cursor
        assert search_jobs(third, limit=4, cursor=fresh).items
    assert len(sql(store, "SELECT value FROM store_secrets")) == 1


@pytest.mark.usefixtures("board")
def test_the_field_key_signs_cursors_when_set(store, db_url, monkeypatch) -> None:
    cursor = search_jobs(store, limit=4).next_cursor
    with open_store(db_url) as other:  # another process, same environment
        assert search_jobs(other, limit=4, cursor=cursor).items
    from azora_store.crypto import generate_key

    monkeypatch.setenv(KEY_ENV, generate_key())  # the key was rotated
    with open_store(db_url) as rotated:
        assert_refused(lambda: search_jobs(rotated, limit=4, cursor=cursor))
