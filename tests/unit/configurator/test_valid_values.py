"""valid_values: exactly the values that extend to a valid configuration, CP-SAT and table against brute force."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microfab import configurator
from microfab.configurator import brute
from microfab.domain.products import ConfigValue, ProductTemplate, TextOption
from tests.unit.configurator.conftest import example

STAND = example("laptop-stand")
PLANTER = example("planter-box")
SHELVING = example("shelving-unit")


@st.composite
def partials(draw: st.DrawFn, product: ProductTemplate, at_least: int = 0) -> dict[str, ConfigValue]:
    names = [o.name for o in product.options]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, min_size=at_least, max_size=len(names)))
    partial: dict[str, ConfigValue] = {}
    for option in product.options:
        if option.name not in chosen:
            continue
        if isinstance(option, TextOption):
            letters = sorted(option.allowed)
            partial[option.name] = draw(st.text(st.sampled_from(letters), max_size=option.max_len))
        else:
            partial[option.name] = draw(st.sampled_from(option.domain()))
    return partial


SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(partials(STAND))
def test_laptop_stand_matches_brute_force(partial: dict[str, ConfigValue]) -> None:
    expected = configurator.valid_values(STAND, partial, method="brute")
    assert configurator.valid_values(STAND, partial, method="cpsat") == expected
    assert configurator.valid_values(STAND, partial, method="table") == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partials(PLANTER))
def test_planter_matches_brute_force(partial: dict[str, ConfigValue]) -> None:
    expected = configurator.valid_values(PLANTER, partial, method="brute")
    assert configurator.valid_values(PLANTER, partial, method="cpsat") == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partials(SHELVING, at_least=7))
def test_large_product_matches_brute_force_on_narrow_partials(partial: dict[str, ConfigValue]) -> None:
    expected = brute.brute_values(SHELVING, partial)
    assert configurator.valid_values(SHELVING, partial) == expected


def test_every_offered_value_leads_somewhere_step_by_step() -> None:
    config: dict[str, ConfigValue] = {}
    for option in SHELVING.options:
        values = configurator.valid_values(SHELVING, config)[option.name]
        config[option.name] = values[-1]
    assert configurator.validate(SHELVING, config) == []


def test_choices_narrow_the_others(stand: ProductTemplate) -> None:
    valid = configurator.valid_values(stand, {"material": "walnut"})
    assert valid["finish"] == ("oiled", "natural")
    assert valid["usb_hub"] == (False,)
    assert valid["width"] == tuple(range(300, 410, 10))
    narrow = configurator.valid_values(stand, {"width": 250})
    assert narrow["engraving"] == tuple(range(15))
    assert narrow["material"] == ("aluminium", "recycled-pet")


def test_a_dead_end_has_no_values(stand: ProductTemplate) -> None:
    valid = configurator.valid_values(stand, {"material": "walnut", "usb_hub": True})
    assert valid
    assert not any(valid.values())


def test_bad_input_names_the_option(stand: ProductTemplate) -> None:
    with pytest.raises(ValueError, match="no option 'colour'"):
        configurator.valid_values(stand, {"colour": "red"})
    with pytest.raises(ValueError, match="'_' not allowed"):
        configurator.valid_values(stand, {"engraving": "A_B_"})
