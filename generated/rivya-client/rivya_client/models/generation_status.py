from typing import Literal

GenerationStatus = Literal["canceled", "failed", "queued", "running", "succeeded"]

GENERATION_STATUS_VALUES: set[GenerationStatus] = {
    "canceled",
    "failed",
    "queued",
    "running",
    "succeeded",
}


def check_generation_status(value: str) -> GenerationStatus:
    if value in GENERATION_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {GENERATION_STATUS_VALUES!r}")
