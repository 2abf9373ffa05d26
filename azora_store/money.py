"""Exact money: Decimal in Python, integer minor units (cents) on disk.

Every supported currency has two decimal places, so one rule converts them
all. A float is refused wherever money enters: ``0.1 + 0.2`` must never reach
a ledger. Amounts are stored as BIGINT minor units and limited to
``MAX_MINOR`` (10^15 minor units, i.e. 10 trillion in major units) so that
sums over millions of rows stay far inside 64 bits on both backends.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import ValidationError

#: ISO 4217 codes the marketplace settles in; all have two decimal places.
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "ZAR", "NGN", "KES", "GHS", "EGP")
MINOR_UNITS_PER_MAJOR = 100
DECIMAL_PLACES = 2
MAX_MINOR = 10**15

Money = Decimal | str | int


def to_minor(amount: Money, field: str = "amount") -> int:
    """Convert a Decimal, a numeric string or a whole number of major units to
    integer minor units, refusing floats, NaN, infinities and sub-cent digits."""
    if isinstance(amount, (bool, float)):
        raise ValidationError(
            f"{field} must be a Decimal or a string such as '12.50', never a float",
            field=field,
            rule="type",
        )
    if isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ValidationError(
                f"{field} must be a decimal number such as '12.50', got {amount!r}",
                field=field,
                rule="type",
            ) from None
    else:
        raise ValidationError(
            f"{field} must be a Decimal or a string, got {type(amount).__name__}",
            field=field,
            rule="type",
        )
    if not value.is_finite():
        raise ValidationError(f"{field} must be a finite number", field=field, rule="type")
    minor = value * MINOR_UNITS_PER_MAJOR
    if minor != minor.to_integral_value():
        raise ValidationError(
            f"{field} has more than {DECIMAL_PLACES} decimal places: {value}",
            field=field,
            rule="precision",
        )
    minor_int = int(minor)
    if abs(minor_int) > MAX_MINOR:
        raise ValidationError(
            f"{field} is out of range: at most {from_minor(MAX_MINOR)} in absolute value",
            field=field,
            rule="range",
        )
    return minor_int


def from_minor(minor: int) -> Decimal:
    """Integer minor units to a Decimal with exactly two places (1250 -> 12.50)."""
    return Decimal(minor).scaleb(-DECIMAL_PLACES)


def check_currency(currency: str, field: str = "currency") -> str:
    """Return the upper-cased ISO code, or raise naming the supported ones."""
    code = currency.strip().upper() if isinstance(currency, str) else currency
    if code not in CURRENCIES:
        raise ValidationError(
            f"{field} must be one of {', '.join(CURRENCIES)}, got {currency!r}",
            field=field,
            rule="enum",
        )
    return code
