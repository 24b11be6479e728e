"""WebSocket consumers: display boards, counter consoles and ticket pages listen to pushes."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import board_group


class BoardConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/board/<centre>/``: the board snapshot on connect, then every update."""

    async def connect(self):
        self.centre = await database_sync_to_async(self._centre)(self.scope["url_route"]["kwargs"]["centre"])
        if self.centre is None:
            await self.close(code=4404)
            return
        self.group = board_group(self.centre.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "snapshot": await database_sync_to_async(self._snapshot)(),
                              "call": None})

    def _centre(self, code):
        from onestop.centres.models import Centre
        from onestop.web.selectors import current_country

        return Centre.objects.select_related("country").filter(country=current_country(), code=code).first()

    def _snapshot(self):
        from .selectors import board_snapshot

        return board_snapshot(self.centre)

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def board_update(self, event):
        await self.send_json({"type": "update", "snapshot": event["snapshot"], "call": event.get("call")})

    async def board_call(self, event):
        """A call, pushed at once with the last calls; queue figures follow in an update."""
        await self.send_json({"type": "call", "call": event["call"], "calls": event["calls"]})


class TicketConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/ticket/<token>/``: this ticket's status, position and estimate, on every change."""

    async def connect(self):
        self.token = self.scope["url_route"]["kwargs"]["token"]
        centre_id = await database_sync_to_async(self._centre_id)()
        if centre_id is None:
            await self.close(code=4404)
            return
        self.group = board_group(centre_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await database_sync_to_async(self._state)())

    def _centre_id(self):
        from .models import Ticket

        return Ticket.objects.filter(token=self.token).values_list("centre_id", flat=True).first()

    def _state(self):
        from .models import Ticket
        from .views import ticket_state

        ticket = Ticket.objects.select_related("centre__country", "group", "counter", "service").get(token=self.token)
        return {"type": "ticket", "ticket": ticket_state(ticket)}

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def board_update(self, event):
        await self.send_json(await database_sync_to_async(self._state)())

    async def board_call(self, event):
        await self.send_json(await database_sync_to_async(self._state)())
