from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An error, as RFC 9457 problem details with a stable `code` and the request id.

    Example:
        {'type': 'about:blank', 'title': 'Unauthorized', 'status': 401, 'detail': 'This API key has been revoked.',
            'code': 'revoked_api_key', 'request_id': 'req_4dXbQ2vN8pK1mZ7tR3yW0a'}

    Attributes:
        type_ (str): A URI reference for the problem type; `about:blank` when the status says it all. Example:
            about:blank.
        title (str): A short summary of the problem type. Example: Unauthorized.
        status (int): The HTTP status code. Example: 401.
        detail (str): What went wrong with this request, for people. Example: This API key has been revoked..
        code (str): A stable machine-readable code. Example: revoked_api_key.
        request_id (str): The id of the request, as in the X-Request-Id header. Example: req_4dXbQ2vN8pK1mZ7tR3yW0a.
    """

    type_: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        code = self.code

        request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
                "request_id": request_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        code = d.pop("code")

        request_id = d.pop("request_id")

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            code=code,
            request_id=request_id,
        )

        problem.additional_properties = d
        return problem

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
