from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GenerationOutput")


@_attrs_define
class GenerationOutput:
    """One produced file.

    Example:
        {'file_id': 'file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc', 'content_type': 'image/png', 'url':
            '/api/v1/files/file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc/content'}

    Attributes:
        file_id (str):  Example: file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc.
        content_type (str):  Example: image/png.
        url (str): Where to download it (with your API key). Example:
            /api/v1/files/file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zc/content.
    """

    file_id: str
    content_type: str
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file_id = self.file_id

        content_type = self.content_type

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file_id": file_id,
                "content_type": content_type,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file_id = d.pop("file_id")

        content_type = d.pop("content_type")

        url = d.pop("url")

        generation_output = cls(
            file_id=file_id,
            content_type=content_type,
            url=url,
        )

        generation_output.additional_properties = d
        return generation_output

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
