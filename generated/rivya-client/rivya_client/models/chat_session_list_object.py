from typing import Literal

ChatSessionListObject = Literal["list"]

CHAT_SESSION_LIST_OBJECT_VALUES: set[ChatSessionListObject] = {
    "list",
}


def check_chat_session_list_object(value: str) -> ChatSessionListObject:
    if value in CHAT_SESSION_LIST_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_SESSION_LIST_OBJECT_VALUES!r}")
