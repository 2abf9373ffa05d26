"""Compliance on both backends: KYC with the document number encrypted (and
nowhere in clear: not in the database file, its WAL, any column, or the logs),
AML checks, and the hash-chained security event log with its verifier."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from azora_store.cli import cli
from azora_store.compliance.audit import GENESIS
from azora_store.crypto import KEY_ENV, default_cipher, normalise
from azora_store.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from azora_store.models import TABLES, SecurityEvent, ServiceSync
from azora_store.support.clock import utcnow
from azora_store.workflow import transitions
from tests.helpers import dump, fingerprint, sql

ALL_TABLES = [model._meta.table_name for model in TABLES]
SECRETS = ("XK9931775QZ", "PZ-4408-8812-WV")  # document numbers that must never leak


def people(store):
    m = store.market
    return (m.create_user("ada@example.org", "Ada Applicant"),
            m.create_user("bo@example.org", "Bo Borrower"),
            m.create_user("officer@example.org", "Olu Officer", role="ADMIN"))


# -- KYC ------------------------------------------------------------------------------


def test_kyc_lifecycle_with_history_and_events(store) -> None:
    c = store.compliance
    ada, bo, officer = people(store)
    record = c.submit_kyc(ada.id, "passport", "ab 123-4567", "ke")
    assert (record.status, record.document_masked, record.country) == (
        "PENDING", "*****4567", "KE")
    assert record.key_id == default_cipher().key_id
    assert c.reveal_document_number(record.id) == "ab 123-4567"
    refused = [
        (Forbidden, lambda: c.approve_kyc(record.id, bo.id)),  # not an admin
        (Forbidden, lambda: c.approve_kyc(record.id, ada.id)),
        (ValidationError, lambda: c.approve_kyc(record.id, officer.id, "EXTREME")),
        (InvalidTransition, lambda: c.submit_kyc(ada.id, "PASSPORT", "AB1234567")),
        (ValidationError, lambda: c.submit_kyc(bo.id, "PASSPORT", "12")),
        (ValidationError, lambda: c.submit_kyc(bo.id, "LIBRARY_CARD", "AB1234567")),
        (ValidationError, lambda: c.submit_kyc(bo.id, "PASSPORT", "AB1234567", "Kenya")),
        (NotFound, lambda: c.submit_kyc(424242, "PASSPORT", "AB1234567")),
        (ValidationError, lambda: c.reject_kyc(record.id, officer.id, " ")),
    ]
    for error, call in refused:
        before = fingerprint(store, ALL_TABLES)
        with pytest.raises(error):
            call()
        assert fingerprint(store, ALL_TABLES) == before, error

    approved = c.approve_kyc(record.id, officer.id, "medium")
    assert (approved.status, approved.risk_level) == ("APPROVED", "MEDIUM")
    assert approved.expires_at > utcnow() + timedelta(days=364)
    assert c.kyc_lookup(ada.id) == approved
    assert [r.user_id for r in c.kyc_find("AB1234567")] == [ada.id]  # any spelling
    with pytest.raises(InvalidTransition):
        c.reject_kyc(record.id, officer.id, "too late")

    assert c.expire_due_kyc(now=utcnow() + timedelta(days=366)) == [record.id]
    again = c.submit_kyc(ada.id, "NATIONAL_ID", "ID-99887766")
    assert (again.status, again.risk_level, again.document_type) == (
        "PENDING", None, "NATIONAL_ID")
    assert c.kyc_find("ab1234567") == [] and c.kyc_find("id99887766")[0].id == record.id
    rejected = c.reject_kyc(record.id, officer.id, "photo unreadable")
    assert (rejected.status, rejected.rejection_reason) == ("REJECTED", "photo unreadable")
    assert [(t.from_state, t.to_state) for t in transitions.history(transitions.KYC, record.id)
            ] == [(None, "PENDING"), ("PENDING", "APPROVED"), ("APPROVED", "EXPIRED"),
                  ("EXPIRED", "PENDING"), ("PENDING", "REJECTED")]
    payloads = [e.payload for e in ServiceSync.select().where(ServiceSync.entity_type == "KYC")]
    assert {e.service for e in ServiceSync.select().where(
        ServiceSync.entity_type == "KYC")} == {"compliance"}
    assert payloads[0]["document_masked"] == "*****4567" and len(payloads) == 5
    with pytest.raises(NotFound):
        c.kyc_lookup(bo.id)


def test_kyc_without_a_key_is_a_clear_configuration_error(store, monkeypatch) -> None:
    ada, _, _ = people(store)
    monkeypatch.delenv(KEY_ENV)
    default_cipher.cache_clear()
    before = fingerprint(store, ALL_TABLES)
    with pytest.raises(ConfigurationError, match="AZORA_FIELD_KEY") as raised:
        store.compliance.submit_kyc(ada.id, "PASSPORT", SECRETS[0])
    assert "generate_key" in str(raised.value)
    assert fingerprint(store, ALL_TABLES) == before
    monkeypatch.setenv(KEY_ENV, "not a key")
    default_cipher.cache_clear()
    with pytest.raises(ConfigurationError, match="32-byte key"):
        store.compliance.submit_kyc(ada.id, "PASSPORT", SECRETS[0])


def spellings(secret: str) -> list[bytes]:
    """Every form the number could leak in: as given, normalised, UTF-16."""
    normal = "".join(ch for ch in secret if ch.isalnum())
    forms = {secret, normal, normal.lower()}
    return [form.encode(encoding) for form in forms for encoding in ("utf-8", "utf-16-le")]


def test_no_plaintext_document_number_in_the_database_or_logs(store, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # peewee logs every statement and its parameters
    ada, bo, officer = people(store)
    c = store.compliance
    first = c.submit_kyc(ada.id, "PASSPORT", SECRETS[0], "NG")
    c.reject_kyc(first.id, officer.id, "blurred")
    c.submit_kyc(ada.id, "PASSPORT", SECRETS[0], "NG")  # resubmitted
    second = c.submit_kyc(bo.id, "DRIVERS_LICENSE", SECRETS[1])
    c.approve_kyc(second.id, officer.id)
    assert c.kyc_find(SECRETS[1])[0].user_id == bo.id
    with pytest.raises(ValidationError) as raised:  # errors never echo the number
        c.submit_kyc(officer.id, "PASSPORT", SECRETS[0] + "x" * 40)
    assert SECRETS[0] not in str(raised.value)
    assert "peewee" in {record.name for record in caplog.records}  # logs were captured

    leaks = [secret for secret in SECRETS for form in spellings(secret)
             if form.decode("utf-8", "ignore") and form in caplog.text.encode("utf-8")]
    assert not leaks, f"plaintext in the logs: {leaks}"
    if store.backend.name == "sqlite":
        sql(store, "PRAGMA wal_checkpoint(PASSIVE)")
        files = [Path(store.backend.path + suffix) for suffix in ("", "-wal", "-shm")]
        data = b"".join(path.read_bytes() for path in files if path.exists())
        assert len(data) > 10_000
        assert not [s for s in SECRETS for form in spellings(s) if form in data]
    # Every row of every table, as text (on SQLite the file scan above covers it too).
    for table in ALL_TABLES:
        for row in dump(store, table):
            text = " ".join(str(value) for value in row).upper()
            for secret in SECRETS:
                assert "".join(ch for ch in secret if ch.isalnum()) not in text.replace(
                    "-", "").replace(" ", ""), table


def test_raw_kyc_columns_hold_only_ciphertext_index_and_mask(store) -> None:
    ada, _, _ = people(store)
    store.compliance.submit_kyc(ada.id, "PASSPORT", SECRETS[0])
    ciphertext, index, masked, key_id = sql(
        store, "SELECT document_ciphertext, document_index, document_masked, key_id "
               "FROM kyc_verifications")[0]
    assert SECRETS[0].encode() not in bytes(ciphertext) and len(bytes(ciphertext)) > 12 + 16
    assert len(index) == 64 and masked == "*" * 7 + "75QZ"
    assert key_id == default_cipher().key_id


# -- AML ------------------------------------------------------------------------------


def test_aml_checks(store) -> None:
    c = store.compliance
    ada, bo, _ = people(store)
    deposit = store.market.deposit(bo.id, "900.00", "USD", idempotency_key="d")
    check = c.record_aml_check(bo.id, 87, True, "large first deposit", "rules-2025.1",
                               "acme-screening", ledger_transaction_id=deposit.transaction_ids[0])
    assert (check.score, check.flagged, check.ledger_transaction_id) == (
        87, True, deposit.transaction_ids[0])
    c.record_aml_check(bo.id, 3, False, "", "rules-2025.2", "internal")
    assert [a.score for a in c.aml_checks(bo.id)] == [3, 87]
    for kwargs, field in [({"score": 101}, "score"), ({"score": -1}, "score"),
                          ({"score": 50.0}, "score"), ({"score": True}, "score"),
                          ({"flagged": "yes"}, "flagged"), ({"rule_version": " "}, "rule_version"),
                          ({"provider": ""}, "provider"),
                          ({"ledger_transaction_id": 424242}, "ledger_transaction_id")]:
        args = {"user_id": ada.id, "score": 10, "flagged": False, "reason": "",
                "rule_version": "v1", "provider": "internal", **kwargs}
        before = dump(store, "aml_checks")
        with pytest.raises((ValidationError, NotFound)) as raised:
            c.record_aml_check(**args)
        assert raised.value.field == field
        assert dump(store, "aml_checks") == before


# -- security events --------------------------------------------------------------------


def record_some(store, n: int = 5) -> list[SecurityEvent]:
    ada, _, _ = people(store)
    c = store.compliance
    return [c.record_event("auth.login" if i % 2 else "auth.failed",
                           "INFO" if i % 2 else "MEDIUM", user_id=ada.id, ip=f"203.0.113.{i}",
                           user_agent="Mozilla/5.0", details={"attempt": i, "note": "ü"})
            for i in range(n)]


def test_security_events_are_chained_and_verified(store) -> None:
    events = record_some(store)
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    report = store.compliance.verify_chain(batch=2)  # crosses batch boundaries
    assert report.ok and report.checked == 5 and report.head_hash == events[-1].hash
    assert "audit chain OK: 5 event(s)" in str(report)
    c = store.compliance
    for kwargs, field in [({"ip": "999.1.1.1"}, "ip"), ({"severity": "LOUD"}, "severity"),
                          ({"details": ["a"]}, "details"), ({"event_type": " "}, "event_type"),
                          ({"user_id": 424242}, "user_id")]:
        args = {"event_type": "x", **kwargs}
        with pytest.raises((ValidationError, NotFound)) as raised:
            c.record_event(**args)
        assert raised.value.field == field
    assert store.compliance.verify_chain().checked == 5


def test_security_events_are_append_only_in_the_database(store) -> None:
    record_some(store, 2)
    before = dump(store, "security_events")
    with pytest.raises(Conflict, match="append-only"):
        sql(store, "UPDATE security_events SET severity = 'LOW'")
    with pytest.raises(Conflict, match="append-only"):
        sql(store, "DELETE FROM security_events")
    assert dump(store, "security_events") == before


def drop_append_only_guard(store) -> None:
    if store.backend.name == "sqlite":
        sql(store, "DROP TRIGGER trg_security_events_no_update")
        sql(store, "DROP TRIGGER trg_security_events_no_delete")
    else:
        sql(store, "ALTER TABLE security_events DISABLE TRIGGER USER")


def test_tampering_is_detected_by_audit_verify(store, db_url: str) -> None:
    events = record_some(store, 6)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 0 and "audit chain OK: 6 event(s)" in result.output

    drop_append_only_guard(store)
    sql(store, "UPDATE security_events SET details = ? WHERE id = ?", '{"attempt":99}',
        events[3].id)
    report = store.compliance.verify_chain()
    assert (report.ok, report.broken_id, report.checked) == (False, events[3].id, 3)
    assert "content hash mismatch" in report.reason
    result = runner.invoke(cli, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 1
    assert f"BROKEN at security event {events[3].id}: content hash mismatch" in result.output


def test_a_removed_or_rechained_row_is_detected(store) -> None:
    events = record_some(store, 6)
    drop_append_only_guard(store)
    sql(store, "DELETE FROM security_events WHERE id = ?", events[2].id)
    report = store.compliance.verify_chain(batch=2)
    assert (report.ok, report.broken_id) == (False, events[3].id)
    assert "prev_hash mismatch" in report.reason and f"{events[2].id}" in report.reason
    # A forger who also recomputes the altered row's hash breaks the next link.
    sql(store, "UPDATE security_events SET prev_hash = ? WHERE id = ?", events[1].hash,
        events[3].id)
    report = store.compliance.verify_chain()
    assert (report.ok, report.broken_id) == (False, events[3].id)
    assert "content hash mismatch" in report.reason


def test_concurrent_writers_keep_one_chain(store) -> None:
    ada, _, _ = people(store)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                store.compliance.record_event("api.call", user_id=ada.id,
                                              details={"thread": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.db.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    prev = [row[0] for row in sql(store, "SELECT prev_hash FROM security_events")]
    assert len(prev) == 60 and len(set(prev)) == 60  # nobody chained onto the same row
    assert store.compliance.verify_chain().ok


@given(st.text(max_size=40))
def test_document_numbers_normalise_to_their_letters_and_digits(value: str) -> None:
    """The fast path (nothing to drop) gives what filtering gives, even where
    upper-casing makes a mark that is not a letter (ǰ -> J + caron): stored
    blind indexes must keep matching."""
    assert normalise(value) == "".join(filter(str.isalnum, value.upper()))
    assert normalise("ǰ-12345") == "J12345"


@given(st.lists(st.text(max_size=40), min_size=1, max_size=4),
       st.binary(max_size=100))
@example([""], b"")
@example(["AB-123456", "ab123456"], b"k" * 64)
@example(["AB-123456"], b"k" * 65)
def test_blind_index_is_the_standard_hmac_sha256(values: list[str], key: bytes) -> None:
    """The hand-padded SHA-256 states give exactly ``hmac``'s HMAC (stored
    indexes keep matching), for any key length (empty, one block, longer), and
    one cipher's prepared states are never consumed by a call."""
    import hashlib
    import hmac

    from azora_store.crypto import FieldCipher, _derive, _hmac_sha256_states

    for value in values:
        message = b"p\x00" + normalise(value).encode()
        inner, outer = _hmac_sha256_states(key)
        inner.update(message)
        outer.update(inner.digest())
        assert outer.hexdigest() == hmac.new(key, message, hashlib.sha256).hexdigest()
    master = hashlib.sha256(key).digest()
    cipher, index_key = FieldCipher(master), _derive(master, b"azora_store/blind-index")
    for value in values * 2:  # the same cipher, again and again
        assert cipher.blind_index(value, b"p") == hmac.new(
            index_key, b"p\x00" + normalise(value).encode(), hashlib.sha256).hexdigest()


def _key_with_url_unsafe_characters() -> bytes:
    """32 random bytes whose standard base64 holds '+' or '/' (and the URL-safe
    form '-' or '_'), so the two spellings differ."""
    import base64
    import secrets

    while True:
        key = secrets.token_bytes(32)
        if set(base64.b64encode(key)) & set(b"+/"):
            return key


def test_the_field_key_may_be_url_safe_base64_but_never_garbage(store, monkeypatch) -> None:
    """Standard or URL-safe base64 (with or without padding) and hex give the
    same key; a value with anything else in it is refused, not decoded around."""
    import base64

    from azora_store.crypto import FieldCipher, load_master_key

    key = _key_with_url_unsafe_characters()
    spellings = [base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode(),
                 base64.urlsafe_b64encode(key).decode().rstrip("="), key.hex(),
                 f"  {key.hex().upper()}\n"]
    for spelling in spellings:
        monkeypatch.setenv(KEY_ENV, spelling)
        assert load_master_key() == key, spelling
    monkeypatch.setenv(KEY_ENV, base64.urlsafe_b64encode(key).decode())
    default_cipher.cache_clear()
    ada, _, _ = people(store)
    record = store.compliance.submit_kyc(ada.id, "PASSPORT", SECRETS[0])
    blob = sql(store, "SELECT document_ciphertext FROM kyc_verifications WHERE id = ?",
               record.id)[0][0]
    assert FieldCipher(key).decrypt(bytes(blob), b"kyc.document_number") == SECRETS[0]
    standard = base64.b64encode(key).decode()
    for garbage in ("not a key", "!!" + standard, standard[:-2] + "*=", standard + "AAAA",
                    key.hex()[:-1], base64.b64encode(key[:31]).decode()):
        monkeypatch.setenv(KEY_ENV, garbage)
        with pytest.raises(ConfigurationError, match="must hold a 32-byte key") as raised:
            load_master_key()
        assert garbage.strip() not in str(raised.value)  # a secret is never echoed
