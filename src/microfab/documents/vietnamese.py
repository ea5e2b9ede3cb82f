"""Amounts in words in Vietnamese, as a VAT invoice states the total ("Số tiền viết bằng chữ").

The reading follows the usual rules: groups of three digits named nghìn, triệu, tỷ (then
nghìn tỷ, triệu tỷ …); inside a group ``mười`` for the tens digit 1 and ``… mươi`` above it;
the units digit 1 reads ``mốt`` after ``mươi``, 5 reads ``lăm`` after ``mười``/``mươi``; a zero
tens digit before a units digit reads ``linh``; a group after the first one reads all three
digits (``một nghìn không trăm linh năm`` = 1 005). Groups that are all zeros are skipped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

_DIGITS: Final = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_GROUPS: Final = ("", "nghìn", "triệu")
_BILLION: Final = 10**9


def _triple(value: int, *, full: bool) -> list[str]:
    """Words for 0 < value < 1000; *full* reads the hundreds even when zero (a group after the first)."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if full or hundreds:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            words += ["linh", _DIGITS[units]] if words else [_DIGITS[units]]
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else _DIGITS[units])
    else:
        words += [_DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 5: "lăm"}.get(units, _DIGITS[units]))
    return words


def _below_billion(value: int, *, leading: bool) -> list[str]:
    groups = [value // 10**6 % 1000, value // 1000 % 1000, value % 1000]
    words: list[str] = []
    for index, group in enumerate(groups):
        if not group:
            continue
        words += _triple(group, full=bool(words) or not leading)
        name = _GROUPS[len(groups) - 1 - index]
        if name:
            words.append(name)
    return words


def _words(value: int, *, leading: bool = True) -> list[str]:
    if value >= _BILLION:
        head = [*_words(value // _BILLION, leading=leading), "tỷ"]
        rest = value % _BILLION
        return head + (_below_billion(rest, leading=False) if rest else [])
    return _below_billion(value, leading=leading)


def number_in_words(value: int) -> str:
    """A non-negative whole number in Vietnamese words: 1 250 000 → ``một triệu hai trăm năm mươi nghìn``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"value: expected int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"value: expected >= 0, got {value}")
    if value == 0:
        return _DIGITS[0]
    return " ".join(_words(value))


def vnd_in_words(amount: Decimal) -> str:
    """A whole amount of đồng as written on an invoice: 2 160 000 → ``Hai triệu một trăm sáu mươi nghìn đồng``."""
    if amount != amount.to_integral_value():
        raise ValueError(f"amount: VND has no minor unit, got {amount}")
    text = number_in_words(abs(int(amount))) + " đồng"
    return text[0].upper() + text[1:]
