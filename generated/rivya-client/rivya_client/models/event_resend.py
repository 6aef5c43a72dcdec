from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EventResend")


@_attrs_define
class EventResend:
    """Where to send the event again.

    Example:
        {'endpoint_id': 'whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb'}

    Attributes:
        endpoint_id (str | Unset):
    """

    endpoint_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        endpoint_id = self.endpoint_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if endpoint_id is not UNSET:
            field_dict["endpoint_id"] = endpoint_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        endpoint_id = d.pop("endpoint_id", UNSET)

        event_resend = cls(
            endpoint_id=endpoint_id,
        )

        return event_resend
