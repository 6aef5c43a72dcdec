from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_session_object import ChatSessionObject, check_chat_session_object

if TYPE_CHECKING:
    from ..models.chat_session_message import ChatSessionMessage


T = TypeVar("T", bound="ChatSessionDetail")


@_attrs_define
class ChatSessionDetail:
    """A session with its messages.

    Example:
        {'id': 'sess_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'chat.session', 'model': 'rivya-chat-dev', 'created_at':
            1795647812, 'updated_at': 1795647813, 'messages': [{'id': 'msg_0YkR2mXq8a9Lm3Pq7Rt2Vw5Za', 'role': 'user',
            'content': 'Write a haiku about foxes.', 'created_at': 1795647812}]}

    Attributes:
        id (str):  Example: sess_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        object_ (ChatSessionObject):
        model (str):  Example: rivya-chat-dev.
        created_at (int):
        updated_at (int):
        messages (list[ChatSessionMessage]):
    """

    id: str
    object_: ChatSessionObject
    model: str
    created_at: int
    updated_at: int
    messages: list[ChatSessionMessage]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        model = self.model

        created_at = self.created_at

        updated_at = self.updated_at

        messages = []
        for messages_item_data in self.messages:
            messages_item = messages_item_data.to_dict()
            messages.append(messages_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "model": model,
                "created_at": created_at,
                "updated_at": updated_at,
                "messages": messages,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chat_session_message import ChatSessionMessage  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_chat_session_object(d.pop("object"))

        model = d.pop("model")

        created_at = d.pop("created_at")

        updated_at = d.pop("updated_at")

        messages = []
        _messages = d.pop("messages")
        for messages_item_data in _messages:
            messages_item = ChatSessionMessage.from_dict(messages_item_data)

            messages.append(messages_item)

        chat_session_detail = cls(
            id=id,
            object_=object_,
            model=model,
            created_at=created_at,
            updated_at=updated_at,
            messages=messages,
        )

        chat_session_detail.additional_properties = d
        return chat_session_detail

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
