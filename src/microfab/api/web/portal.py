"""The customer portal's quote page: the configuration form's state, and the quote or why there is none.

The form is a plain GET form: one query parameter per option (its name), plus ``product``,
``market``, ``qty``, ``ship_to`` (tax jurisdiction) and ``b2b``. A configuration is checked
option by option (values the product does not offer), then against the product's rules; only
a valid one is quoted, through the same use case as ``POST /v1/quotes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from microfab.commerce.locale import parse_locale
from microfab.configurator import repair, valid_values, validate
from microfab.control import operations
from microfab.control.bootstrap import Services
from microfab.domain.errors import DomainError, InvalidConfigurationError
from microfab.domain.network import Market, Network
from microfab.domain.products import ConfigValue, EnumOption, IntOption, Option, ProductTemplate, TextOption
from microfab.l10n.quote_view import QuoteView, brand_for, quote_view

PATH = "/quote"
RESERVED = frozenset({"product", "market", "qty", "ship_to", "b2b", "lang"})
"""The page's own parameters; an option with one of these names is sent as ``option-<name>``."""


def param(option: str) -> str:
    """The query parameter of an option."""
    return f"option-{option}" if option in RESERVED else option


@dataclass(frozen=True, slots=True)
class Field:
    """One option of the form: its parameter, the value shown, and (enum options) the values with labels."""

    option: Option
    param: str
    value: ConfigValue
    choices: tuple[tuple[str, str], ...] = ()
    compatible: frozenset[str] | None = None
    """Enum values that still extend the other choices to a valid configuration (None: not computed)."""

    def greyed(self, value: str) -> bool:
        """Whether *value* conflicts with the other options' current values (shown, but greyed)."""
        return self.compatible is not None and value not in self.compatible

    @property
    def narrowed(self) -> tuple[int, int] | None:
        """For a number option: the smallest and largest value the other choices allow, when narrower."""
        if self.compatible is None or not isinstance(self.option, IntOption):
            return None
        values = sorted(int(v) for v in self.compatible)
        offered = self.option.domain()
        return (values[0], values[-1]) if len(values) < len(offered) else None


@dataclass(frozen=True, slots=True)
class PortalQuote:
    """Everything the quote page shows: the form, then the quote, or the problems, or why no quote."""

    product: ProductTemplate
    market: Market
    fields: tuple[Field, ...]
    quantity: int
    b2b: bool
    ship_to: str
    jurisdictions: tuple[str, ...]
    view: QuoteView | None = None
    problems: tuple[str, ...] = ()
    nearest: str | None = None
    changed: tuple[str, ...] = ()
    failure: str | None = None


def default_market(network: Network, language: str) -> Market:
    """The first market that speaks *language*, else the first market."""
    markets = list(network.markets.values())
    return next((m for m in markets if m.locale.split("-")[0] == language), markets[0])


def quote_locale(language: str, market: Market) -> str:
    """The page's language with the market's formats (``de`` in market ``de`` → ``de-DE``), when CLDR has it."""
    tag = f"{language}-{market.country}"
    try:
        parse_locale(tag)
    except ValueError:
        return language
    return tag


def href(product: str, market: str, config: Mapping[str, ConfigValue], quantity: int, ship_to: str, b2b: bool) -> str:
    """The page's URL for one configuration."""
    query: list[tuple[str, str]] = [("product", product), ("market", market)]
    query += [(param(name), _text(value)) for name, value in config.items()]
    query += [("qty", str(quantity)), ("ship_to", ship_to)] + ([("b2b", "true")] if b2b else [])
    return f"{PATH}?{urlencode(query)}"


def build(
    services: Services,
    product: ProductTemplate,
    market: Market,
    submitted: Mapping[str, Sequence[str]],
    *,
    language: str,
    quantity: int,
    ship_to: str | None,
    b2b: bool,
) -> PortalQuote:
    """The page for *product* in *market* with the *submitted* option values (the last of each wins)."""
    network = services.state.network
    jurisdictions = tuple(
        sorted(code for code, j in network.trade.tax.jurisdictions.items() if j.country == market.country)
    )
    if ship_to not in jurisdictions:
        ship_to = market.tax_jurisdiction
    config: dict[str, ConfigValue] = {o.name: _initial(o) for o in product.options}
    config.update({o.name: submitted[param(o.name)][-1] for o in product.options if submitted.get(param(o.name))})
    fields, invalid = _fields(product, config)
    page = PortalQuote(product, market, fields, quantity, b2b, ship_to, jurisdictions)
    if invalid:
        return replace(page, problems=invalid)
    page = replace(page, fields=_with_compatible(product, config, fields))
    try:
        violations = validate(product, config)
    except (DomainError, ValueError) as exc:  # a derived value's formula fails for these values
        return replace(page, failure=str(exc))
    if violations:
        return _repaired(replace(page, problems=tuple(v.message for v in violations)), config)
    try:
        priced = operations.quote_order(
            services,
            product.name,
            config,
            quantity,
            market.name,
            locale=quote_locale(language, market),
            tax_jurisdiction=ship_to or None,
            b2b=b2b,
        )
    except (DomainError, ValueError) as exc:
        return replace(page, failure=str(exc))
    brand = brand_for(market.brands, priced.locale.language, market.locale)
    return replace(page, view=quote_view(priced, brand=brand))


def _initial(option: Option) -> ConfigValue:
    """The value a fresh form shows: the default, else the first value offered."""
    if option.default is not None:
        return option.default
    if isinstance(option, TextOption):
        return option.sample(option.min_len)
    return option.domain()[0]


def _fields(product: ProductTemplate, config: Mapping[str, ConfigValue]) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """The form's fields (each value parsed when it can be) and a message per value the product does not offer."""
    fields, invalid = [], []
    for option in product.options:
        value = config[option.name]
        try:
            value = option.parse(value)
        except InvalidConfigurationError as exc:
            invalid.append(str(exc))
        choices = tuple((v, option.labels.get(v, v)) for v in option.values) if isinstance(option, EnumOption) else ()
        fields.append(Field(option, param(option.name), value, choices))
    return tuple(fields), tuple(invalid)


def _with_compatible(
    product: ProductTemplate, config: Mapping[str, ConfigValue], fields: Sequence[Field]
) -> tuple[Field, ...]:
    """Each enum and number field with the values compatible with every other option as chosen now.

    One exact valid-values query per enum option (the other options fixed), so a value is greyed
    only when no completion exists with it. When the other options already conflict among
    themselves nothing is greyed: the page shows the conflict and the nearest valid configuration.
    """
    out = []
    for field in fields:
        values: tuple[ConfigValue, ...] = ()
        if isinstance(field.option, EnumOption | IntOption):
            others = {k: v for k, v in config.items() if k != field.option.name}
            try:
                values = valid_values(product, others).get(field.option.name, ())
            except (DomainError, ValueError):
                values = ()
        out.append(replace(field, compatible=frozenset(str(v) for v in values)) if values else field)
    return tuple(out)


def _repaired(page: PortalQuote, config: Mapping[str, ConfigValue]) -> PortalQuote:
    """Offer the nearest valid configuration (the fewest changed options), when there is one."""
    try:
        nearest = repair(page.product, config)
    except DomainError:
        return page
    link = href(page.product.name, page.market.name, nearest.config, page.quantity, page.ship_to, page.b2b)
    changed = tuple(f"{name}: {_text(nearest.config[name])}" for name in nearest.changed)
    return replace(page, nearest=link, changed=changed)


def _text(value: ConfigValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
