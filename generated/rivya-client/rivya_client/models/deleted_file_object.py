from typing import Literal

DeletedFileObject = Literal["file"]

DELETED_FILE_OBJECT_VALUES: set[DeletedFileObject] = {
    "file",
}


def check_deleted_file_object(value: str) -> DeletedFileObject:
    if value in DELETED_FILE_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DELETED_FILE_OBJECT_VALUES!r}")
