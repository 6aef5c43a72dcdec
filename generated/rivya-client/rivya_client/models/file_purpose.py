from typing import Literal

FilePurpose = Literal["chat", "generation_output", "reference"]

FILE_PURPOSE_VALUES: set[FilePurpose] = {
    "chat",
    "generation_output",
    "reference",
}


def check_file_purpose(value: str) -> FilePurpose:
    if value in FILE_PURPOSE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_PURPOSE_VALUES!r}")
