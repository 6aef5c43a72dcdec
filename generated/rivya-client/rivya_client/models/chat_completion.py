from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_completion_object import ChatCompletionObject, check_chat_completion_object
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chat_completion_choices_item import ChatCompletionChoicesItem
    from ..models.chat_usage import ChatUsage


T = TypeVar("T", bound="ChatCompletion")


@_attrs_define
class ChatCompletion:
    """The answer to a chat turn.

    Example:
        {'id': 'chatcmpl-0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'chat.completion', 'created': 1795647812, 'model':
            'rivya-chat-dev', 'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': 'Red fox in the snow.'},
            'finish_reason': 'stop', 'logprobs': None}], 'usage': {'prompt_tokens': 12, 'completion_tokens': 6,
            'total_tokens': 18}, 'session_id': 'sess_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'credits': 1}

    Attributes:
        id (str):  Example: chatcmpl-0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        object_ (ChatCompletionObject):
        created (int):
        model (str):
        choices (list[ChatCompletionChoicesItem]):
        usage (ChatUsage): Tokens of the turn. Example: {'prompt_tokens': 12, 'completion_tokens': 20, 'total_tokens':
            32}.
        session_id (str):  Example: sess_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        credits_ (int | Unset): Credits charged for this turn.
    """

    id: str
    object_: ChatCompletionObject
    created: int
    model: str
    choices: list[ChatCompletionChoicesItem]
    usage: ChatUsage
    session_id: str
    credits_: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        created = self.created

        model = self.model

        choices = []
        for choices_item_data in self.choices:
            choices_item = choices_item_data.to_dict()
            choices.append(choices_item)

        usage = self.usage.to_dict()

        session_id = self.session_id

        credits_ = self.credits_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "created": created,
                "model": model,
                "choices": choices,
                "usage": usage,
                "session_id": session_id,
            }
        )
        if credits_ is not UNSET:
            field_dict["credits"] = credits_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chat_completion_choices_item import ChatCompletionChoicesItem  # noqa: PLC0415
        from ..models.chat_usage import ChatUsage  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_chat_completion_object(d.pop("object"))

        created = d.pop("created")

        model = d.pop("model")

        choices = []
        _choices = d.pop("choices")
        for choices_item_data in _choices:
            choices_item = ChatCompletionChoicesItem.from_dict(choices_item_data)

            choices.append(choices_item)

        usage = ChatUsage.from_dict(d.pop("usage"))

        session_id = d.pop("session_id")

        credits_ = d.pop("credits", UNSET)

        chat_completion = cls(
            id=id,
            object_=object_,
            created=created,
            model=model,
            choices=choices,
            usage=usage,
            session_id=session_id,
            credits_=credits_,
        )

        chat_completion.additional_properties = d
        return chat_completion

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
