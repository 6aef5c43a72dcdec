from typing import Literal

ChatSessionMessageRole = Literal["assistant", "developer", "system", "tool", "user"]

CHAT_SESSION_MESSAGE_ROLE_VALUES: set[ChatSessionMessageRole] = {
    "assistant",
    "developer",
    "system",
    "tool",
    "user",
}


def check_chat_session_message_role(value: str) -> ChatSessionMessageRole:
    if value in CHAT_SESSION_MESSAGE_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_SESSION_MESSAGE_ROLE_VALUES!r}")
