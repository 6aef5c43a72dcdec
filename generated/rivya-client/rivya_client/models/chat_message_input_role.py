from typing import Literal

ChatMessageInputRole = Literal["assistant", "developer", "system", "tool", "user"]

CHAT_MESSAGE_INPUT_ROLE_VALUES: set[ChatMessageInputRole] = {
    "assistant",
    "developer",
    "system",
    "tool",
    "user",
}


def check_chat_message_input_role(value: str) -> ChatMessageInputRole:
    if value in CHAT_MESSAGE_INPUT_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHAT_MESSAGE_INPUT_ROLE_VALUES!r}")
