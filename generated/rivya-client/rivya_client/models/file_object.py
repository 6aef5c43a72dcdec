from typing import Literal

FileObject = Literal["file"]

FILE_OBJECT_VALUES: set[FileObject] = {
    "file",
}


def check_file_object(value: str) -> FileObject:
    if value in FILE_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_OBJECT_VALUES!r}")
