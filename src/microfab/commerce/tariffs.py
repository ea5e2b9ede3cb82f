"""Tariff exposure: customs value, duties (MFN or preferential, extra duties stacked), import VAT.

Every amount is ad valorem on the customs value, in the importing territory's currency
(``TariffSchedule.currency``: convert with `microfab.commerce.fx` first), rounded half-up to its
minor unit per duty line. Every `DutyLine` says why it applies, is replaced, or is waived, so
a customs broker can check the assessment line by line. Specific duties (per kg, per unit),
anti-dumping cases and quotas are not modelled.

An origin claim (``originating_under``) counts only for an agreement passed in *agreements*
that covers the origin and the importer on the day; any other claim is ignored and said so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from microfab.commerce.tax import TaxLine, percent, tax_line
from microfab.domain.errors import CurrencyMismatchError
from microfab.domain.quantities import Money
from microfab.domain.trade import CustomsBasis, TariffSchedule, TaxJurisdiction, TradeAgreement


@dataclass(frozen=True, slots=True)
class DutyLine:
    """One duty on one customs value: ``amount = base × rate`` unless *exempt* (then zero)."""

    name: str
    rate: Decimal
    base: Money
    amount: Money
    exempt: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DutyAssessment:
    """The duty lines of an import (or of a bill of materials) and their total."""

    lines: tuple[DutyLine, ...]
    total: Money

    def converted(self, convert: Callable[[Money], Money]) -> DutyAssessment:
        """The assessment with every amount passed through *convert* (an FX conversion, for a quote).

        The total is the owed total converted once, so converted lines may differ from it by
        a minor unit of rounding; the assessed (owed) figures are the unconverted ones.
        """
        lines = tuple(replace(line, base=convert(line.base), amount=convert(line.amount)) for line in self.lines)
        return DutyAssessment(lines, convert(self.total))


@dataclass(frozen=True, slots=True)
class Component:
    """A bought-in component a site imports: *value* is its customs value in the site's tariff currency.

    ``origin=None`` means the country of origin is unknown. ``preferential`` means the supplier
    has given proof of preferential origin (a certification of origin, a supplier's declaration).
    """

    item: str
    hs: str
    origin: str | None
    value: Money
    preferential: bool = False


def customs_value(
    transaction_value: Money, freight: Money, basis: CustomsBasis, *, insurance_share: Decimal = Decimal(0)
) -> Money:
    """The value duty is assessed on, rounded half-up to the minor unit.

    FOB (the US): the transaction value, freight to the border excluded. CIF (the EU, Japan):
    transaction value + freight + insurance, the insurance being *insurance_share* of
    (transaction value + freight) when the actual premium is not known.
    """
    if insurance_share < 0:
        raise ValueError(f"insurance_share: expected >= 0, got {insurance_share}")
    if basis == CustomsBasis.FOB:
        return transaction_value.quantize(ROUND_HALF_UP)
    cost_and_freight = transaction_value + freight
    return (cost_and_freight + cost_and_freight * insurance_share).quantize(ROUND_HALF_UP)


def assess_duty(
    schedule: TariffSchedule,
    hs: str,
    origin_country: str,
    customs_value: Money,
    on: date,
    *,
    originating_under: Collection[str] = (),
    agreements: Sequence[TradeAgreement] = (),
) -> DutyAssessment:
    """Duties on a good of *hs* from *origin_country* entering *schedule*'s territory on *on*.

    The MFN rate of the longest matching tariff line (none: 0 %, flagged for checking) is
    replaced by an agreement's preferential rate when the good originates under an agreement
    that covers the pair that day and the rate is lower. Extra duties that apply are stacked on
    the same customs value, each waived when the good originates under an agreement it exempts.

    Raises
    ------
    CurrencyMismatchError
        When *customs_value* is not in the schedule's currency.
    """
    zero = _check_currency(customs_value, schedule)
    if origin_country in schedule.countries:
        reason = f"origin {origin_country} is inside the {schedule.name} customs territory: not an import"
        return DutyAssessment((DutyLine("no import duty", Decimal(0), customs_value, zero, False, reason),), zero)
    claims, notes = _valid_claims(schedule, origin_country, on, originating_under, agreements)
    lines = [_base_duty(schedule, hs, origin_country, customs_value, on, claims, notes)]
    for extra in schedule.extra:
        if not extra.applies(hs, origin_country, on):
            continue
        waived_by = sorted(set(extra.exempt_under) & set(claims))
        if waived_by:
            reason = f"waived: the good originates under {waived_by[0]}, which {extra.name} exempts"
            lines.append(DutyLine(extra.name, extra.rate, customs_value, zero, True, reason))
        else:
            reason = (
                f"{extra.name} {percent(extra.rate)} % on HS {', '.join(extra.hs)} from {', '.join(extra.origins)} "
                f"in force {extra.period}, stacked on the customs value"
            )
            lines.append(
                DutyLine(extra.name, extra.rate, customs_value, _duty(customs_value, extra.rate), False, reason)
            )
    return DutyAssessment(tuple(lines), sum((line.amount for line in lines), zero))


def _check_currency(value: Money, schedule: TariffSchedule) -> Money:
    """Zero in the schedule's currency, after checking *value* is in it."""
    if value.currency != schedule.currency:
        raise CurrencyMismatchError(value.currency, schedule.currency)
    return Money.zero(schedule.currency).quantize()


def _duty(base: Money, rate: Decimal) -> Money:
    return (base * rate).quantize(ROUND_HALF_UP)


def _valid_claims(
    schedule: TariffSchedule,
    origin: str,
    on: date,
    claims: Collection[str],
    agreements: Sequence[TradeAgreement],
) -> tuple[dict[str, TradeAgreement], list[str]]:
    """The claimed agreements that cover *origin* into the schedule's territory on *on*, and why others don't count."""
    known = {a.name: a for a in agreements}
    valid: dict[str, TradeAgreement] = {}
    notes: list[str] = []
    for name in sorted(set(claims)):
        agreement = known.get(name)
        if agreement is None:
            notes.append(f"origin claim under {name} ignored: agreement not given")
        elif not any(agreement.covers(origin, importer, on) for importer in schedule.countries):
            notes.append(f"origin claim under {name} ignored: it does not cover {origin} into {schedule.name} on {on}")
        else:
            valid[name] = agreement
    return valid, notes


def _base_duty(
    schedule: TariffSchedule,
    hs: str,
    origin: str,
    value: Money,
    on: date,
    claims: dict[str, TradeAgreement],
    notes: list[str],
) -> DutyLine:
    """The MFN line, or the best preferential rate that replaces it."""
    line = schedule.mfn_line(hs, on)
    if line is None:
        mfn, why = Decimal(0), f"no tariff line for HS {hs} in {schedule.name} on {on}, assumed free — check"
    else:
        mfn, why = line.mfn, f"MFN {percent(line.mfn)} % from tariff line {line.hs} for HS {hs}"
    best = min(claims.values(), key=lambda a: (a.preferential_rate, a.name), default=None)
    if best is not None and best.preferential_rate < mfn:
        rate = best.preferential_rate
        reason = f"originates under {best.name} ({origin} into {schedule.name}): {percent(rate)} % replaces {why}"
        return DutyLine(
            f"{best.name} preferential", rate, value, _duty(value, rate), False, "; ".join([reason, *notes])
        )
    if best is not None:
        notes = [f"{best.name} preferential rate {percent(best.preferential_rate)} % is not lower", *notes]
    return DutyLine("MFN", mfn, value, _duty(value, mfn), False, "; ".join([why, *notes]))


def import_vat(
    customs_value: Money, duty: Money, jurisdiction: TaxJurisdiction | None, category: str, on: date
) -> TaxLine:
    """Import VAT (EU Einfuhrumsatzsteuer, JP consumption tax on imports) on customs value + duty.

    A jurisdiction whose tax is not levied on imports (``import_vat=False``: US sales tax falls on
    the retail sale, not on entry), or ``None``, gives a zero line at 0 %. Import VAT is usually recoverable
    as input tax by a registered importer, so it is a cash-flow cost rather than a landed cost.
    """
    base = customs_value + duty
    if jurisdiction is None or not jurisdiction.import_vat:
        return TaxLine.untaxed(category, base, "no import VAT")
    return tax_line(base, jurisdiction, category, on)


ComponentRow = Component | tuple[str, str, str | None, Money] | tuple[str, str, str | None, Money, bool]
"""A component, or the tuple ``(item, hs, origin, value[, preferential])``."""


def component_duties(
    schedule: TariffSchedule | None,
    materials: Sequence[ComponentRow],
    site_country: str,
    on: date,
    agreements: Sequence[TradeAgreement] = (),
    *,
    currency: str | None = None,
) -> DutyAssessment:
    """Duties a site in *site_country* pays importing its bill of materials, one group of lines per component.

    A component made in the site's country (or elsewhere in its customs territory) pays nothing;
    one of unknown origin pays MFN and only the extra duties that hit every origin (noted); one
    from a country an agreement covers is preferential only with the supplier's proof
    (``preferential=True``), otherwise it pays MFN (noted). Without a schedule (none declared
    for the site's country) every imported component gets a zero line flagged "not assessed",
    in *currency* (default: the first component's).

    Raises
    ------
    ValueError
        When *site_country* is not in the schedule's territory, or there is neither a schedule,
        a component nor a *currency* to express the total in.
    CurrencyMismatchError
        When a component's value is not in the schedule's currency.
    """
    parts = [m if isinstance(m, Component) else Component(*m) for m in materials]
    if schedule is None:
        return _unassessed(parts, site_country, currency)
    if site_country not in schedule.countries:
        raise ValueError(f"site_country: {site_country} is not in the {schedule.name} customs territory")
    zero = Money.zero(schedule.currency).quantize()
    lines: list[DutyLine] = []
    for component in parts:
        lines.extend(_component_lines(schedule, component, site_country, on, agreements))
    return DutyAssessment(tuple(lines), sum((line.amount for line in lines), zero))


def _unassessed(parts: Sequence[Component], site_country: str, currency: str | None) -> DutyAssessment:
    """Zero lines for a site whose country declares no tariff schedule, each saying so."""
    code = currency or (parts[0].value.currency if parts else None)
    if code is None:
        raise ValueError("currency: needed when there is no tariff schedule and no component")
    zero = Money.zero(code).quantize()
    lines = []
    for part in parts:
        if part.origin == site_country:
            name, reason = "no import duty", f"made in {site_country}: not an import"
        else:
            name, reason = (
                "not assessed",
                f"no tariff schedule is declared for {site_country}: duty not assessed — check",
            )
        lines.append(DutyLine(f"{part.item}: {name}", Decimal(0), part.value, zero, False, reason))
    return DutyAssessment(tuple(lines), zero)


def _component_lines(
    schedule: TariffSchedule, component: Component, site: str, on: date, agreements: Sequence[TradeAgreement]
) -> list[DutyLine]:
    origin = component.origin or ""
    covering = sorted(a.name for a in agreements if component.origin and a.covers(origin, site, on))
    claims = covering if component.preferential else []
    assessed = assess_duty(
        schedule, component.hs, origin, component.value, on, originating_under=claims, agreements=agreements
    )
    if component.origin is None:
        note = "origin unknown: MFN applies and origin-specific extra duties could not be checked — ask the supplier"
    elif covering and not component.preferential:
        note = f"no supplier proof of {' / '.join(covering)} origin: MFN applies"
    elif component.preferential and not covering:
        note = f"flagged preferential, but no agreement given covers {origin} into {site} on {on}: MFN applies"
    else:
        note = ""
    named = [replace(line, name=f"{component.item}: {line.name}") for line in assessed.lines]
    if note:
        named[0] = replace(named[0], reason=f"{named[0].reason}; {note}")
    return named
