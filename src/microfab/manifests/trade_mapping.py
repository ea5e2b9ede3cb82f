"""Map the trade kinds (``TaxJurisdiction``, ``Tariff``, ``TradeAgreement``) and claim policy to domain data."""

from __future__ import annotations

from datetime import date

from microfab.domain.trade import (
    ALWAYS,
    ClaimPolicy,
    Combine,
    CustomsBasis,
    ExtraDuty,
    OriginRule,
    Period,
    PriceDisplay,
    Rounding,
    RoundingLevel,
    ShiftLevel,
    TariffLine,
    TariffSchedule,
    TaxJurisdiction,
    TaxRate,
    TradeAgreement,
    ValueBase,
    ValueMethod,
)
from microfab.manifests.schema import (
    ClaimPolicySpec,
    OriginRuleSpec,
    TariffSpec,
    TaxJurisdictionSpec,
    TradeAgreementSpec,
)


def period(start: date | None, end: date | None) -> Period:
    """The period ``[start, end]``; no start means in force since always."""
    return Period(start or ALWAYS.start, end)


def jurisdiction(name: str, spec: TaxJurisdictionSpec) -> TaxJurisdiction:
    """A ``TaxJurisdiction`` document as domain data; overlapping rates raise ``ValueError("rates: ...")``."""
    rates = tuple(TaxRate(r.category, r.rate, period(r.from_, r.until), r.label, r.note) for r in spec.rates)
    return TaxJurisdiction(
        code=spec.code.upper(),
        tax_name=spec.tax_name,
        rates=rates,
        display_b2c=PriceDisplay(spec.display.b2c),
        display_b2b=PriceDisplay(spec.display.b2b),
        rounding=Rounding(spec.rounding),
        rounding_level=RoundingLevel(spec.rounding_level),
        import_vat=spec.import_vat,
    )


def tariff(name: str, spec: TariffSpec) -> TariffSchedule:
    """A ``Tariff`` document as a schedule named after the document."""
    lines = tuple(TariffLine(line.hs, line.mfn, period(line.from_, line.until)) for line in spec.lines)
    extra = tuple(
        ExtraDuty(
            e.name,
            e.rate,
            tuple(e.hs),
            tuple(e.origins),
            period(e.from_, e.until),
            tuple(e.exempt_under),
        )
        for e in spec.extra
    )
    return TariffSchedule(name, tuple(spec.countries), CustomsBasis(spec.basis), lines, extra, spec.currency)


def agreement(name: str, spec: TradeAgreementSpec) -> TradeAgreement:
    """A ``TradeAgreement`` document; its name in capitals is the agreement's name (``usmca`` → ``USMCA``)."""
    rules = tuple(_rule(index, r) for index, r in enumerate(spec.rules))
    return TradeAgreement(
        name.upper(),
        tuple(spec.members),
        rules,
        spec.de_minimis,
        spec.preferential_rate,
        period(spec.from_, spec.until),
        ValueBase(spec.de_minimis_base),
    )


def _rule(index: int, spec: OriginRuleSpec) -> OriginRule:
    """One origin rule; its error names the rule (``rules: rule 2 (7616): ...``)."""
    try:
        return OriginRule(
            hs=spec.hs,
            combine=Combine(spec.combine),
            shift=ShiftLevel(spec.shift) if spec.shift else None,
            shift_except=tuple(spec.shift_except),
            values={ValueMethod(k): v for k, v in spec.values.items()},
        )
    except ValueError as exc:
        raise ValueError(f"rules: rule {index + 1} (hs {spec.hs}): {exc}") from None


def claim_policy(spec: ClaimPolicySpec) -> ClaimPolicy:
    """The network's claim thresholds."""
    return ClaimPolicy(
        spec.ftc_foreign_share_max, spec.california_foreign_share_max, spec.california_unavailable_share_max
    )
