from typing import Literal

ChatContentPartType = Literal["image_url", "text"]

CHAT_CONTENT_PART_TYPE_VALUES: set[ChatContentPartType] = {
    "image_url",
    "text",
}


def check_chat_content_part_type(value: str) -> ChatContentPartType:
    if value in CHAT_CONTENT_PART_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_CONTENT_PART_TYPE_VALUES!r}")
