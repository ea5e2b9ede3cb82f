"""Vietnamese amounts in words, as a VAT invoice writes its total."""

from __future__ import annotations

from decimal import Decimal

import pytest

from microfab.documents.vietnamese import number_in_words, vnd_in_words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (25, "hai mươi lăm"),
        (40, "bốn mươi"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (1005, "một nghìn không trăm linh năm"),
        (1_000_000, "một triệu"),
        (1_000_005, "một triệu không trăm linh năm"),
        (2_000_050, "hai triệu không trăm năm mươi"),
        (1_250_000, "một triệu hai trăm năm mươi nghìn"),
        (2_160_000, "hai triệu một trăm sáu mươi nghìn"),
        (1_000_000_000, "một tỷ"),
        (3_005_000_000, "ba tỷ không trăm linh năm triệu"),
        (10_000_000_000_000, "mười nghìn tỷ"),
    ],
)
def test_numbers_in_words(value: int, words: str) -> None:
    assert number_in_words(value) == words


def test_dong_amount_as_written_on_an_invoice() -> None:
    assert vnd_in_words(Decimal(2_710_000)) == "Hai triệu bảy trăm mười nghìn đồng"
    assert vnd_in_words(Decimal("-21000")) == "Hai mươi mốt nghìn đồng"


def test_only_whole_non_negative_numbers() -> None:
    with pytest.raises(ValueError, match="VND has no minor unit"):
        vnd_in_words(Decimal("10.5"))
    with pytest.raises(ValueError, match=">= 0"):
        number_in_words(-1)
    with pytest.raises(TypeError, match="expected int"):
        number_in_words(True)
