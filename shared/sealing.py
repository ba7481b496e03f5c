"""Field-level encryption of applicant personal data (D8: kept confidential), erasable per case.

AES-256-GCM with the case id as associated data, so a sealed value cannot be
moved to another case unnoticed. Each sealed value names the key that sealed
it (``kid``).

A case's personal data is sealed under its own data key (``kid`` ``"case"``), kept wrapped by the
keyring outside the log (the platform's vault): destroying that key makes every copy on the
immutable log unreadable (crypto-shredding, 개인정보 보호법 Art. 21: destroyed when its purpose
ends). Values sealed directly under a keyring key (earlier releases) stay readable while their key
is in the keyring; keys can rotate. Where the keys live is a ``KeySource``; this module only computes.
"""
from __future__ import annotations

import base64
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict


class SealingError(ValueError):
    pass


class Erased(SealingError):
    """The case's data key was destroyed: its personal data is gone for good."""


CASE_KID = "case"  # sealed under the case's own data key


class KeySource(Protocol):
    """Where sealing finds its keys: a ``Keyring`` alone, or a vault of per-case data keys."""

    def sealing_key(self, case_id: str) -> tuple[str, bytes]: ...

    def opening_key(self, kid: str, case_id: str) -> bytes: ...


@runtime_checkable
class ScopedKeySource(KeySource, Protocol):
    """A vault that can read many cases' keys at once, for one batch of decisions."""

    def scoped(self, case_ids: Collection[str]) -> KeySource:
        """These cases' keys read now in a few queries (any other case's asked as usual), for one batch:
        an erasure during it is seen by the next."""
        ...


class MadeKeys:
    """Data keys a vault has just made (and committed) for new cases: sealing under them reads nothing back;
    any other case's key, and every opening, is the vault's."""

    def __init__(self, made: dict[str, bytes], vault: KeySource) -> None:
        self._made = made
        self._vault = vault

    def sealing_key(self, case_id: str) -> tuple[str, bytes]:
        key = self._made.get(case_id)
        return (CASE_KID, key) if key is not None else self._vault.sealing_key(case_id)

    def opening_key(self, kid: str, case_id: str) -> bytes:
        return self._vault.opening_key(kid, case_id)


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

    # as a KeySource: values sealed directly under the active key (no per-case key: not erasable)
    def sealing_key(self, case_id: str) -> tuple[str, bytes]:
        return self.active, self.keys[self.active]

    def opening_key(self, kid: str, case_id: str) -> bytes:
        key = self.keys.get(kid)
        if key is None:
            raise SealingError(f"key {kid!r} is not in the keyring")
        return key


class OneCase:
    """A KeySource for one case over one decision (or one consumer batch): each key is looked up once (the
    vault is asked once, not once per sealed field) and kept no longer, so an erasure is seen by the next."""

    def __init__(self, keys: KeySource, case_id: str) -> None:
        self._keys = keys
        self._case_id = case_id
        self._sealing: tuple[str, bytes] | None = None
        self._opening: dict[str, bytes] = {}

    def sealing_key(self, case_id: str) -> tuple[str, bytes]:
        if case_id != self._case_id:
            return self._keys.sealing_key(case_id)
        if self._sealing is None:
            self._sealing = self._keys.sealing_key(case_id)
            if self._sealing[0] == CASE_KID:  # the case's own key seals and opens: one lookup serves both
                self._opening.setdefault(CASE_KID, self._sealing[1])
        return self._sealing

    def opening_key(self, kid: str, case_id: str) -> bytes:
        if case_id != self._case_id:
            return self._keys.opening_key(kid, case_id)
        if kid not in self._opening:
            self._opening[kid] = self._keys.opening_key(kid, case_id)
            if kid == CASE_KID and self._sealing is None:  # a case with its own key seals under it
                self._sealing = (CASE_KID, self._opening[kid])
        return self._opening[kid]


def seal(keys: KeySource, value: Any, case_id: str, nonce: bytes | None = None) -> Sealed:
    """Encrypt ``value`` (anything JSON can hold). ``nonce`` is for tests only."""
    nonce = nonce or os.urandom(12)
    kid, key = keys.sealing_key(case_id)
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    ct = AESGCM(key).encrypt(nonce, plaintext, case_id.encode())
    return Sealed(kid=kid, nonce=base64.b64encode(nonce).decode(), ciphertext=base64.b64encode(ct).decode())


def unseal(keys: KeySource, sealed: Sealed, case_id: str) -> Any:
    """The value; ``Erased`` if the case's data key was destroyed, ``SealingError`` if it cannot be opened."""
    key = keys.opening_key(sealed.kid, case_id)
    try:
        plaintext = AESGCM(key).decrypt(
            base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), case_id.encode()
        )
    except Exception as exc:  # InvalidTag, bad base64: one meaning for the caller
        raise SealingError("sealed value cannot be opened with this key and case") from exc
    return json.loads(plaintext)


def new_data_key() -> bytes:
    return os.urandom(32)


def wrap_key(keyring: Keyring, data_key: bytes, case_id: str) -> Sealed:
    """A case's data key sealed under the keyring's active key (the case id bound as associated data)."""
    nonce = os.urandom(12)
    ct = AESGCM(keyring.keys[keyring.active]).encrypt(nonce, data_key, f"case-key|{case_id}".encode())
    return Sealed(kid=keyring.active, nonce=base64.b64encode(nonce).decode(), ciphertext=base64.b64encode(ct).decode())


def unwrap_key(keyring: Keyring, wrapped: Sealed, case_id: str) -> bytes:
    key = keyring.opening_key(wrapped.kid, case_id)
    try:
        return AESGCM(key).decrypt(base64.b64decode(wrapped.nonce), base64.b64decode(wrapped.ciphertext),
                                   f"case-key|{case_id}".encode())
    except Exception as exc:  # InvalidTag, bad base64: one meaning for the caller
        raise SealingError("the case's data key cannot be opened with this keyring") from exc
