"""Field encryption for personal data (KYC document numbers).

- Encryption: AES-256-GCM with a random 96-bit nonce per value; the stored
  blob is ``nonce || ciphertext+tag``. The associated data binds a ciphertext
  to its purpose (e.g. ``b"kyc.document_number"``), so a blob copied into
  another column does not decrypt.
- Look-up: an HMAC-SHA256 "blind index" of the normalised value, with a key
  derived from the master key (HKDF, separate purpose), so equal document
  numbers can be found without decrypting anything.
- Display: a masked copy that shows only the last four characters.

The master key comes from ``AZORA_FIELD_KEY`` (32 bytes: base64, standard or
URL-safe, or hex) or the
file named by ``AZORA_FIELD_KEY_FILE``. Without one, using this module raises a
``ConfigurationError`` that says how to make a key: nothing falls back to a
built-in key. ``key_id`` (the first 8 hex digits of SHA-256 of the key) is
stored with each row so a key rotation can tell old rows from new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from functools import cache
from typing import Any

from .errors import ConfigurationError, ValidationError

KEY_ENV = "AZORA_FIELD_KEY"
KEY_FILE_ENV = "AZORA_FIELD_KEY_FILE"
NONCE_BYTES = 12


def generate_key() -> str:
    """A new random master key, base64-encoded (for AZORA_FIELD_KEY)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


_HEX = re.compile(r"[0-9a-fA-F]{64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{43}=?")
_BASE64_URL = re.compile(r"[A-Za-z0-9_-]{43}=?")


def _decode_key(text: str, source: str) -> bytes:
    """32 bytes written as hex, standard base64 or URL-safe base64 (padding
    optional). Anything else is refused: nothing is skipped or guessed (a lax
    base64 decoder drops unknown characters and can turn garbage into a key)."""
    text = text.strip()
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    for alphabet, altchars in ((_BASE64, None), (_BASE64_URL, b"-_")):
        if alphabet.fullmatch(text):
            padded = text.rstrip("=") + "="
            return base64.b64decode(padded, altchars=altchars, validate=True)
    raise ConfigurationError(
        f"{source} must hold a 32-byte key as base64 (standard or URL-safe, 43 or 44 "
        f"characters) or hex (64 characters); it holds {len(text)} characters that are "
        f"not one of these. Make a key with "
        "`python -c \"from azora_store.crypto import generate_key; print(generate_key())\"`")


def load_master_key() -> bytes:
    if os.environ.get(KEY_ENV):
        return _decode_key(os.environ[KEY_ENV], f"${KEY_ENV}")
    path = os.environ.get(KEY_FILE_ENV)
    if path:
        try:
            with open(path) as handle:
                return _decode_key(handle.read(), f"the key file {path}")
        except OSError as exc:
            raise ConfigurationError(f"cannot read the key file {path} (${KEY_FILE_ENV}): "
                                     f"{exc.strerror}") from None
    raise ConfigurationError(
        f"no field-encryption key: set ${KEY_ENV} to a 32-byte base64 key (make one with "
        "`python -c \"from azora_store.crypto import generate_key; print(generate_key())\"`) "
        f"or ${KEY_FILE_ENV} to a file holding it")


def _derive(master: bytes, purpose: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869) with an empty salt: one 32-byte key per purpose."""
    prk = hmac.new(b"\x00" * 32, master, hashlib.sha256).digest()
    return hmac.new(prk, purpose + b"\x01", hashlib.sha256).digest()


#: Public: other modules derive their own keys from the master key (cursors).
derive_key = _derive


class FieldCipher:
    """Encrypts, indexes and masks sensitive field values with one master key."""

    def __init__(self, master_key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(master_key) != 32:
            raise ConfigurationError("the field-encryption key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"azora_store/aes-gcm"))
        self._index_inner, self._index_outer = _hmac_sha256_states(
            _derive(master_key, b"azora_store/blind-index"))
        self.key_id = hashlib.sha256(master_key).hexdigest()[:8]

    def encrypt(self, plaintext: str, purpose: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), purpose)

    def decrypt(self, blob: bytes, purpose: bytes) -> str:
        from cryptography.exceptions import InvalidTag

        blob = bytes(blob)
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose).decode()
        except InvalidTag:
            raise ConfigurationError("cannot decrypt: the value was encrypted with another key "
                                     "or for another purpose, or it was altered") from None

    def blind_index(self, value: str, purpose: bytes) -> str:
        """Hex HMAC-SHA256 of the normalised value: equal inputs give equal indexes."""
        inner = self._index_inner.copy()
        inner.update(purpose + b"\x00" + normalise(value).encode())
        outer = self._index_outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


def _hmac_sha256_states(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states that have absorbed the HMAC key's inner and outer pads
    (RFC 2104), so an HMAC costs two state copies and no Python-level object:
    0.5 µs against 0.8 µs for ``hmac.HMAC.copy()``, on the KYC look-up's hot path."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    block = key.ljust(64, b"\x00")
    return (hashlib.sha256(bytes(byte ^ 0x36 for byte in block)),
            hashlib.sha256(bytes(byte ^ 0x5C for byte in block)))


#: Public: precomputed HMAC-SHA256 states for other hot paths (cursors).
hmac_sha256_states = _hmac_sha256_states


def normalise(value: str) -> str:
    """Document numbers compare without spaces, dashes or case."""
    upper = value.upper()
    if upper.isalnum():  # nothing to drop (the usual form): skip the filter
        return upper
    return "".join(filter(str.isalnum, upper))


def mask(value: str, visible: int = 4) -> str:
    """``AB1234567`` -> ``*****4567``: the only form ever shown."""
    clean = normalise(value)
    if len(clean) <= visible:
        return "*" * len(clean)
    return "*" * (len(clean) - visible) + clean[-visible:]


def check_document_number(value: str, field: str = "document_number") -> str:
    if not isinstance(value, str) or not 5 <= len(normalise(value)) <= 32:
        raise ValidationError(f"{field} must have 5 to 32 letters or digits", field=field,
                              rule="format")
    return value


@cache
def default_cipher() -> FieldCipher:
    """The process-wide cipher from the environment (loaded once)."""
    return FieldCipher(load_master_key())


if __name__ == "__main__":  # python -m azora_store.crypto: print a new key
    print(generate_key())
