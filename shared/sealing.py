"""Field-level encryption of applicant personal data (D8: kept confidential).

AES-256-GCM with the case id as associated data, so a sealed value cannot be
moved to another case unnoticed. Each sealed value names the key that sealed
it (``kid``), so keys can rotate: new values use the active key, old ones stay
readable while their key is in the keyring. Keys come from settings; this
module only computes.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict


class SealingError(ValueError):
    pass


class Sealed(BaseModel):
    """An encrypted JSON value as it travels in events and sits in read models."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kid: str
    nonce: str  # base64
    ciphertext: str  # base64


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise SealingError(f"active key {self.active!r} is not in the keyring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise SealingError(f"key {kid!r} must be 32 bytes (AES-256), not {len(key)}")

    @classmethod
    def parse(cls, spec: str, active: str | None = None) -> "Keyring":
        """``kid:base64key[,kid:base64key...]``; the first is active unless named."""
        keys: dict[str, bytes] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            kid, sep, b64 = part.partition(":")
            if not sep or not kid:
                raise SealingError("keyring: each entry must be kid:base64key")
            try:
                keys[kid] = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise SealingError(f"keyring: key {kid!r} is not valid base64") from exc
        if not keys:
            raise SealingError("keyring: no keys given")
        return cls(keys=keys, active=active or next(iter(keys)))


def seal(keyring: Keyring, value: Any, case_id: str, nonce: bytes | None = None) -> Sealed:
    """Encrypt ``value`` (anything JSON can hold). ``nonce`` is for tests only."""
    nonce = nonce or os.urandom(12)
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    ct = AESGCM(keyring.keys[keyring.active]).encrypt(nonce, plaintext, case_id.encode())
    return Sealed(kid=keyring.active, nonce=base64.b64encode(nonce).decode(), ciphertext=base64.b64encode(ct).decode())


def unseal(keyring: Keyring, sealed: Sealed, case_id: str) -> Any:
    key = keyring.keys.get(sealed.kid)
    if key is None:
        raise SealingError(f"key {sealed.kid!r} is not in the keyring")
    try:
        plaintext = AESGCM(key).decrypt(
            base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), case_id.encode()
        )
    except Exception as exc:  # InvalidTag, bad base64: one meaning for the caller
        raise SealingError("sealed value cannot be opened with this key and case") from exc
    return json.loads(plaintext)
