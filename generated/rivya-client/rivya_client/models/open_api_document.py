from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.open_api_document_info import OpenAPIDocumentInfo
    from ..models.open_api_document_paths import OpenAPIDocumentPaths


T = TypeVar("T", bound="OpenAPIDocument")


@_attrs_define
class OpenAPIDocument:
    """An OpenAPI 3.0 document.

    Example:
        {'openapi': '3.0.3', 'info': {'title': 'Rivya API', 'version': '1.0.0'}, 'paths': {}}

    Attributes:
        openapi (str):  Example: 3.0.3.
        info (OpenAPIDocumentInfo):
        paths (OpenAPIDocumentPaths):
    """

    openapi: str
    info: OpenAPIDocumentInfo
    paths: OpenAPIDocumentPaths
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        openapi = self.openapi

        info = self.info.to_dict()

        paths = self.paths.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "openapi": openapi,
                "info": info,
                "paths": paths,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.open_api_document_info import OpenAPIDocumentInfo  # noqa: PLC0415
        from ..models.open_api_document_paths import OpenAPIDocumentPaths  # noqa: PLC0415

        d = dict(src_dict)
        openapi = d.pop("openapi")

        info = OpenAPIDocumentInfo.from_dict(d.pop("info"))

        paths = OpenAPIDocumentPaths.from_dict(d.pop("paths"))

        open_api_document = cls(
            openapi=openapi,
            info=info,
            paths=paths,
        )

        open_api_document.additional_properties = d
        return open_api_document

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
