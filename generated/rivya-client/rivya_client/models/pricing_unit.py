from typing import Literal

PricingUnit = Literal["1k_tokens", "image", "second"]

PRICING_UNIT_VALUES: set[PricingUnit] = {
    "1k_tokens",
    "image",
    "second",
}


def check_pricing_unit(value: str) -> PricingUnit:
    if value in PRICING_UNIT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PRICING_UNIT_VALUES!r}")
