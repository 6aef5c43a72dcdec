from typing import Literal

GenerationListObject = Literal["list"]

GENERATION_LIST_OBJECT_VALUES: set[GenerationListObject] = {
    "list",
}


def check_generation_list_object(value: str) -> GenerationListObject:
    if value in GENERATION_LIST_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {GENERATION_LIST_OBJECT_VALUES!r}")
