from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_object import FileObject, check_file_object
from ..models.file_purpose import FilePurpose, check_file_purpose

T = TypeVar("T", bound="File")


@_attrs_define
class File:
    """A stored file.

    Example:
        {'id': 'file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'file', 'filename': 'fox.png', 'content_type': 'image/png',
            'bytes': 48213, 'sha256': '9f2b5c1e0d7a4b3c8e6f1a2d5c7b9e0f3a6d8c1b4e7f0a2d5c8b1e4f7a0d3c6b', 'purpose':
            'reference', 'created_at': 1795647812}

    Attributes:
        id (str):  Example: file_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb.
        object_ (FileObject):  Example: file.
        filename (str): The uploaded name, cleaned, for display only. Example: fox.png.
        content_type (str): The type read from the file's content. Example: image/png.
        bytes_ (int):  Example: 48213.
        sha256 (str): The SHA-256 of the bytes, hex. Example:
            9f2b5c1e0d7a4b3c8e6f1a2d5c7b9e0f3a6d8c1b4e7f0a2d5c8b1e4f7a0d3c6b.
        purpose (FilePurpose): What a file is for: `reference` (media for generations), `chat` (chat image attachments),
            `generation_output` (made by a generation; not uploadable).
             Example: reference.
        created_at (int): Unix seconds. Example: 1795647812.
    """

    id: str
    object_: FileObject
    filename: str
    content_type: str
    bytes_: int
    sha256: str
    purpose: FilePurpose
    created_at: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        filename = self.filename

        content_type = self.content_type

        bytes_ = self.bytes_

        sha256 = self.sha256

        purpose: str = self.purpose

        created_at = self.created_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "filename": filename,
                "content_type": content_type,
                "bytes": bytes_,
                "sha256": sha256,
                "purpose": purpose,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_file_object(d.pop("object"))

        filename = d.pop("filename")

        content_type = d.pop("content_type")

        bytes_ = d.pop("bytes")

        sha256 = d.pop("sha256")

        purpose = check_file_purpose(d.pop("purpose"))

        created_at = d.pop("created_at")

        file = cls(
            id=id,
            object_=object_,
            filename=filename,
            content_type=content_type,
            bytes_=bytes_,
            sha256=sha256,
            purpose=purpose,
            created_at=created_at,
        )

        file.additional_properties = d
        return file

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
