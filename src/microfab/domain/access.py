"""Who may do what: API key roles, principals and the events that create and revoke keys."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from microfab.domain.events import Event


class Role(enum.StrEnum):
    """What a key may do: a customer acts on its own orders; operators, planners and admins on the network."""

    CUSTOMER = "customer"
    OPERATOR = "operator"
    PLANNER = "planner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a key, its role and, for customers, the customer and market it is bound to."""

    key_id: str
    role: Role
    customer: str | None = None
    market: str | None = None

    def __post_init__(self) -> None:
        if self.role is Role.CUSTOMER and not self.customer:
            raise ValueError("customer: a customer key must name its customer")


@dataclass(frozen=True, slots=True)
class ApiKeyCreated(Event):
    """An API key was issued; only the SHA-256 digest of its secret is kept."""

    key_id: str
    role: str
    customer: str | None
    market: str | None
    digest: str
    label: str


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked(Event):
    """An API key can no longer be used."""

    key_id: str
