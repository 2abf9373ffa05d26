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
CENT = Decimal(1).scaleb(-DECIMAL_PLACES)
#: Decimal.adjusted() (the power of ten of the first digit) of the largest
#: amount in major units: anything with a higher one is out of range.
MAX_ADJUSTED = len(str(MAX_MINOR // MINOR_UNITS_PER_MAJOR)) - 1

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
            # Decimal() also reads other scripts' digits and "1_000"
            if not amount.isascii() or "_" in amount:
                raise InvalidOperation
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
    # Range before any arithmetic: "1e999999999" is a finite Decimal, but
    # multiplying it overflows the decimal context (and "1e-999999999" would
    # underflow to zero). Exact from here on: at most 16 + 2 digits.
    if value and value.adjusted() > MAX_ADJUSTED:
        raise _out_of_range(field)
    cents = value.quantize(CENT)
    if cents != value:
        raise ValidationError(
            f"{field} has more than {DECIMAL_PLACES} decimal places: {value}",
            field=field,
            rule="precision",
        )
    minor_int = int(cents.scaleb(DECIMAL_PLACES))
    if abs(minor_int) > MAX_MINOR:
        raise _out_of_range(field)
    return minor_int


def _out_of_range(field: str) -> ValidationError:
    return ValidationError(
        f"{field} is out of range: at most {from_minor(MAX_MINOR)} in absolute value",
        field=field,
        rule="range",
    )


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
