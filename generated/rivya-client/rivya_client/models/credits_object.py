from typing import Literal

CreditsObject = Literal["credits"]

CREDITS_OBJECT_VALUES: set[CreditsObject] = {
    "credits",
}


def check_credits_object(value: str) -> CreditsObject:
    if value in CREDITS_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CREDITS_OBJECT_VALUES!r}")
