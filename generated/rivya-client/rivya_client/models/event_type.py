from typing import Literal

EventType = Literal["generation.canceled", "generation.failed", "generation.succeeded"]

EVENT_TYPE_VALUES: set[EventType] = {
    "generation.canceled",
    "generation.failed",
    "generation.succeeded",
}


def check_event_type(value: str) -> EventType:
    if value in EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EVENT_TYPE_VALUES!r}")
