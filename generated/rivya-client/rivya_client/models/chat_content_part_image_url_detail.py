from typing import Literal

ChatContentPartImageUrlDetail = Literal["auto", "high", "low"]

CHAT_CONTENT_PART_IMAGE_URL_DETAIL_VALUES: set[ChatContentPartImageUrlDetail] = {
    "auto",
    "high",
    "low",
}


def check_chat_content_part_image_url_detail(value: str) -> ChatContentPartImageUrlDetail:
    if value in CHAT_CONTENT_PART_IMAGE_URL_DETAIL_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_CONTENT_PART_IMAGE_URL_DETAIL_VALUES!r}")
