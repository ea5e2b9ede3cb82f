"""Probability distributions of durations, validated when built; each gives a fast sampler.

A distribution is immutable data; ``sampler(rng)`` binds it to a `random.Random` stream and
returns a zero-argument function, so the hot path of the simulation calls one function per
draw. Every sampler draws exactly one call of the stream's own method (``expovariate``,
``lognormvariate``...), so a scenario written for another engine replays draw for draw.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

Sampler = Callable[[], float]
"""A zero-argument function returning the next draw."""


def _finite(name: str, value: float, *, positive: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        expected = "> 0" if positive else ">= 0"
        raise ValueError(f"{name}: expected a finite number {expected}, got {value}")


@dataclass(frozen=True, slots=True)
class Constant:
    """Always *value*."""

    value: float

    def __post_init__(self) -> None:
        _finite("value", self.value)

    @property
    def mean(self) -> float:
        """The mean: *value*."""
        return self.value

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a function giving *value*."""
        value = self.value
        return lambda: value


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential with *mean* (``rng.expovariate(1 / mean)``): memoryless failures and repairs."""

    mean: float

    def __post_init__(self) -> None:
        _finite("mean", self.mean, positive=True)

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a function drawing from *rng*."""
        expovariate, rate = rng.expovariate, 1.0 / self.mean
        return lambda: expovariate(rate)


@dataclass(frozen=True, slots=True)
class Lognormal:
    """Lognormal with *mean* and coefficient of variation *cv* (``sigma^2 = ln(1 + cv^2)``)."""

    mean: float
    cv: float

    def __post_init__(self) -> None:
        _finite("mean", self.mean, positive=True)
        _finite("cv", self.cv)

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """The parameters of the underlying normal distribution."""
        sigma2 = math.log(1.0 + self.cv**2)
        return math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2)

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a function drawing from *rng*."""
        lognormvariate = rng.lognormvariate
        mu, sigma = self.mu_sigma
        return lambda: lognormvariate(mu, sigma)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Uniform on ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _finite("low", self.low)
        _finite("high", self.high)
        if self.high < self.low:
            raise ValueError(f"high: expected >= low ({self.low}), got {self.high}")

    @property
    def mean(self) -> float:
        """The midpoint."""
        return (self.low + self.high) / 2.0

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a function drawing from *rng*."""
        uniform, low, high = rng.uniform, self.low, self.high
        return lambda: uniform(low, high)


@dataclass(frozen=True, slots=True)
class Weibull:
    """Weibull with *scale* and *shape* (shape > 1: wear-out failures, < 1: infant mortality)."""

    scale: float
    shape: float

    def __post_init__(self) -> None:
        _finite("scale", self.scale, positive=True)
        _finite("shape", self.shape, positive=True)

    @property
    def mean(self) -> float:
        """``scale * Gamma(1 + 1 / shape)``."""
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def sampler(self, rng: random.Random) -> Sampler:
        """Return a function drawing from *rng*."""
        weibullvariate, scale, shape = rng.weibullvariate, self.scale, self.shape
        return lambda: weibullvariate(scale, shape)


Distribution = Constant | Exponential | Lognormal | Uniform | Weibull
"""Any duration distribution the twin knows."""
