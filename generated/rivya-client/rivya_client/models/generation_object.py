from typing import Literal

GenerationObject = Literal["generation"]

GENERATION_OBJECT_VALUES: set[GenerationObject] = {
    "generation",
}


def check_generation_object(value: str) -> GenerationObject:
    if value in GENERATION_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {GENERATION_OBJECT_VALUES!r}")
