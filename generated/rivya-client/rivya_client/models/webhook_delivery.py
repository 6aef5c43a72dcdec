from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_delivery_object import WebhookDeliveryObject, check_webhook_delivery_object
from ..models.webhook_delivery_status import WebhookDeliveryStatus, check_webhook_delivery_status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_attempt import WebhookAttempt


T = TypeVar("T", bound="WebhookDelivery")


@_attrs_define
class WebhookDelivery:
    """An event's delivery to one endpoint.

    Example:
        {'id': 'msg_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'object': 'webhook_delivery', 'endpoint_id':
            'whep_0YkR2mXq8a9Lm3Pq7Rt2Vw5Zb', 'status': 'delivered', 'next_attempt_at': None, 'created_at': 1795647813,
            'attempts': []}

    Attributes:
        id (str): Also the `webhook-id` header of its requests.
        object_ (WebhookDeliveryObject):
        endpoint_id (str):
        status (WebhookDeliveryStatus):
        created_at (int):
        attempts (list[WebhookAttempt]):
        next_attempt_at (int | None | Unset):
    """

    id: str
    object_: WebhookDeliveryObject
    endpoint_id: str
    status: WebhookDeliveryStatus
    created_at: int
    attempts: list[WebhookAttempt]
    next_attempt_at: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str = self.object_

        endpoint_id = self.endpoint_id

        status: str = self.status

        created_at = self.created_at

        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        next_attempt_at: int | None | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        else:
            next_attempt_at = self.next_attempt_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "endpoint_id": endpoint_id,
                "status": status,
                "created_at": created_at,
                "attempts": attempts,
            }
        )
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.webhook_attempt import WebhookAttempt  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = check_webhook_delivery_object(d.pop("object"))

        endpoint_id = d.pop("endpoint_id")

        status = check_webhook_delivery_status(d.pop("status"))

        created_at = d.pop("created_at")

        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = WebhookAttempt.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        def _parse_next_attempt_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        webhook_delivery = cls(
            id=id,
            object_=object_,
            endpoint_id=endpoint_id,
            status=status,
            created_at=created_at,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
        )

        webhook_delivery.additional_properties = d
        return webhook_delivery

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
