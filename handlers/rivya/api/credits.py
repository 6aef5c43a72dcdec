"""`credits` tag: the account's wallet."""

from __future__ import annotations

from starlette.responses import Response

from rivya.api import render, runtime
from rivya.billing.wallet import get_balance
from rivya_models.models import Credits


async def get_credits(user: str) -> Response:
    """GET /credits"""
    async with runtime().db.read() as conn:
        wallet = await get_balance(conn, user)
    return render(
        Credits(
            object="credits",
            balance=wallet.balance,
            reserved=wallet.reserved,
            available=wallet.available,
        ).model_dump(mode="json")
    )
