"""The product configurator: valid values without dead ends, conflicts, repairs, counts, and derivation.

Pure engine: product definitions (`microfab.domain.products`) in, answers out. CP-SAT answers the
search questions (`search`, over the model in `cpsat`); `brute` is the plain-Python reference
and test oracle for small products.

Examples
--------
>>> valid_values(product, {"material": "walnut"})  # doctest: +SKIP
{'width': (300, 310, ...), 'finish': ('oiled', 'natural'), 'usb_hub': (False,), 'engraving': (0, 1, ...)}
"""

from __future__ import annotations

from microfab.configurator.api import (
    BRUTE_LIMIT,
    Conflict,
    Repair,
    ValidValues,
    check_product,
    count,
    explain,
    raw_space,
    repair,
    valid_values,
    validate,
)
from microfab.configurator.derive import Derivation, derive

__all__ = [
    "BRUTE_LIMIT",
    "Conflict",
    "Derivation",
    "Repair",
    "ValidValues",
    "check_product",
    "count",
    "derive",
    "explain",
    "raw_space",
    "repair",
    "valid_values",
    "validate",
]
