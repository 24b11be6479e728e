"""Money: amounts are Decimals in a currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class MoneyError(ValueError):
    pass


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def parse_amount(raw: object, currency: str, decimals: int = 2) -> Decimal:
    """Parse ``5``, ``"5.00"`` or ``"5.00 AZN"`` as a non-negative amount in ``currency``.

    Raises :class:`MoneyError` with a message fit for a validation report.
    """
    if isinstance(raw, bool) or raw is None:
        raise MoneyError(f"fee must be an amount in {currency}, got {raw!r}")
    text = str(raw).strip()
    parts = text.split()
    if len(parts) == 2:
        text, unit = parts
        if unit.upper() != currency.upper():
            raise MoneyError(f"fee is in {unit}, but the pack currency is {currency}")
    elif len(parts) != 1:
        raise MoneyError(f"fee must be an amount in {currency}, got {raw!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"fee must be an amount in {currency}, got {raw!r}") from None
    if not value.is_finite():
        raise MoneyError(f"fee must be an amount in {currency}, got {raw!r}")
    if value < 0:
        raise MoneyError(f"fee must not be negative, got {text}")
    minor_unit = Decimal(1).scaleb(-decimals)
    rounded = value.quantize(minor_unit, rounding=ROUND_HALF_UP)
    if rounded != value:  # "5.005 AZN" has a digit below the minor unit; "100.00 AFN" does not
        raise MoneyError(f"fee has more than {decimals} decimals for {currency}: {text}")
    return rounded
