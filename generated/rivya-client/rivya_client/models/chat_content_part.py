from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_content_part_type import ChatContentPartType, check_chat_content_part_type
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chat_content_part_image_url import ChatContentPartImageUrl


T = TypeVar("T", bound="ChatContentPart")


@_attrs_define
class ChatContentPart:
    """A part of a message's content: `{"type": "text", "text": …}` or
    `{"type": "image_url", "image_url": {"url": "rivya://files/file_…"}}`.

        Example:
            {'type': 'image_url', 'image_url': {'url': 'rivya://files/file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb'}}

        Attributes:
            type_ (ChatContentPartType):
            text (str | Unset):
            image_url (ChatContentPartImageUrl | Unset):
    """

    type_: ChatContentPartType
    text: str | Unset = UNSET
    image_url: ChatContentPartImageUrl | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        text = self.text

        image_url: dict[str, Any] | Unset = UNSET
        if not isinstance(self.image_url, Unset):
            image_url = self.image_url.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if text is not UNSET:
            field_dict["text"] = text
        if image_url is not UNSET:
            field_dict["image_url"] = image_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chat_content_part_image_url import ChatContentPartImageUrl  # noqa: PLC0415

        d = dict(src_dict)
        type_ = check_chat_content_part_type(d.pop("type"))

        text = d.pop("text", UNSET)

        _image_url = d.pop("image_url", UNSET)
        image_url: ChatContentPartImageUrl | Unset
        if isinstance(_image_url, Unset):
            image_url = UNSET
        else:
            image_url = ChatContentPartImageUrl.from_dict(_image_url)

        chat_content_part = cls(
            type_=type_,
            text=text,
            image_url=image_url,
        )

        chat_content_part.additional_properties = d
        return chat_content_part

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
