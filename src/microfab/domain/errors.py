"""Domain errors: every failure a user can cause has its own type and a message that says what was expected."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error raised by the domain and the engines."""


class CurrencyMismatchError(DomainError, TypeError):
    """Two amounts in different currencies were combined without conversion."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}: convert first")
        self.left = left
        self.right = right


class UnknownReferenceError(DomainError, LookupError):
    """A name refers to nothing of that kind in the network."""

    def __init__(self, kind: str, name: str, known: list[str] | None = None) -> None:
        hint = f"; known: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")
        self.kind = kind
        self.name = name


class InvalidConfigurationError(DomainError, ValueError):
    """A product configuration names an option or a value the product does not offer."""


class NoEligibleSiteError(DomainError):
    """No site has every capability the routing needs and an open lane to the market."""


class InvalidTransitionError(DomainError):
    """A PackML command is not allowed in the module's current state."""


class NoFxRateError(DomainError, LookupError):
    """The rate table has no rate between two currencies."""
