from typing import Literal

ChatSessionObject = Literal["chat.session"]

CHAT_SESSION_OBJECT_VALUES: set[ChatSessionObject] = {
    "chat.session",
}


def check_chat_session_object(value: str) -> ChatSessionObject:
    if value in CHAT_SESSION_OBJECT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_SESSION_OBJECT_VALUES!r}")
