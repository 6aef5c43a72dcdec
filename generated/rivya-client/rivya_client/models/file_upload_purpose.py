from typing import Literal

FileUploadPurpose = Literal["chat", "reference"]

FILE_UPLOAD_PURPOSE_VALUES: set[FileUploadPurpose] = {
    "chat",
    "reference",
}


def check_file_upload_purpose(value: str) -> FileUploadPurpose:
    if value in FILE_UPLOAD_PURPOSE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_UPLOAD_PURPOSE_VALUES!r}")
