"""API keys: issue (secret shown once, SHA-256 digest recorded), revoke, authenticate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from microfab.control.state import ACCESS_STREAM, State
from microfab.domain.access import ApiKeyCreated, ApiKeyRevoked, Principal, Role
from microfab.domain.errors import DomainError, UnknownReferenceError
from microfab.store.base import EventLog

_PREFIX = "mfk"


def create_key(
    state: State, log: EventLog, *, role: Role, customer: str | None, market: str | None, label: str, at: datetime
) -> tuple[str, str]:
    """Issue a key and return ``(key_id, secret)``; the secret is never stored.

    A customer key is bound to a customer and, optionally, to a market of the network.
    """
    if role is Role.CUSTOMER and not customer:
        raise DomainError("a customer key needs --customer")
    if role is not Role.CUSTOMER and customer:
        raise DomainError(f"a {role.value} key is not bound to a customer")
    if market is not None and state.has_network and market not in state.network.markets:
        raise UnknownReferenceError("market", market, list(state.network.markets))
    key_id = secrets.token_hex(6)
    secret = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    event = ApiKeyCreated(at, key_id, role.value, customer, market, _digest(secret), label)
    log.append(ACCESS_STREAM, [event], expected_version=state.access_version)
    state.apply_event(ACCESS_STREAM, event)
    return key_id, secret


def revoke_key(state: State, log: EventLog, key_id: str, *, at: datetime) -> None:
    """Revoke a key by id."""
    if key_id not in state.keys:
        raise UnknownReferenceError("API key", key_id)
    event = ApiKeyRevoked(at, key_id)
    log.append(ACCESS_STREAM, [event], expected_version=state.access_version)
    state.apply_event(ACCESS_STREAM, event)


def authenticate(state: State, secret: str) -> Principal | None:
    """The principal of *secret*, or None for an unknown, malformed or revoked key (constant-time compare)."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    key = state.keys.get(parts[1])
    if key is None or key.revoked:
        return None
    if not hmac.compare_digest(key.digest, _digest(secret)):
        return None
    return Principal(key.key_id, Role(key.role), key.customer, key.market)


def _digest(secret: str) -> str:
    # Keys are 256-bit random tokens: a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def label_of(state: State, principal: Principal) -> str:
    """Who a key is, for the record (an alert taken on): its label and id, or the id alone."""
    key = state.keys.get(principal.key_id)
    return f"{key.label} ({principal.key_id})" if key is not None and key.label else f"key {principal.key_id}"
