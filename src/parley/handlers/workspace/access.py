"""Who may do what in the workspace, and the values that prove it.

Only active staff take part; organisers and admins moderate team and dialogue channels
(never direct ones). Each lookup raises the error the caller should see: no such channel,
not a member, not a team channel, not staff.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.storage.stores import workspace as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.workspace import ChannelInfo, MemberInfo, MessageInfo
from parley.vocabulary import STAFF_ROLES, ChannelKind, Role

MODERATORS = frozenset({Role.ADMIN, Role.ORGANISER})


def require_staff(actor: Account) -> None:
    if actor.role not in STAFF_ROLES or actor.disabled:
        raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")


def moderates(actor: Account, channel: ChannelInfo) -> bool:
    return channel.kind != ChannelKind.DIRECT and actor.role in MODERATORS


async def membership(s: AsyncSession, actor: Account, channel_id: int) -> tuple[ChannelInfo, MemberInfo]:
    channel = await store.channel_by_id(s, channel_id)
    if channel is None:
        raise NotFound("No such channel.", code="channel_not_found")
    member = await store.member(s, channel_id, actor.id)
    if member is None:
        raise Forbidden("You are not a member of this channel.", code="not_member")
    return channel, member


async def member_message(s: AsyncSession, actor: Account, message_id: int) -> MessageInfo:
    message = await store.message_by_id(s, message_id)
    if message is None:
        raise NotFound("No such message.", code="message_not_found")
    await membership(s, actor, message.channel_id)
    return message


async def team_channel(s: AsyncSession, channel_id: int) -> ChannelInfo:
    channel = await store.channel_by_id(s, channel_id)
    if channel is None:
        raise NotFound("No such channel.", code="channel_not_found")
    if channel.kind != ChannelKind.TEAM:
        raise Conflict("Members of this channel are managed elsewhere.", code="not_team_channel")
    return channel


async def staff_targets(s: AsyncSession, ids: set[int]) -> list[Account]:
    users = await store.users_by_ids(s, ids)
    if ids - users.keys():
        raise InvalidInput("Someone you chose does not exist.", fields={"user_ids": "unknown"}, code="unknown_user")
    if any(u.role not in STAFF_ROLES or u.disabled for u in users.values()):
        raise InvalidInput(
            "Only staff can take part in the workspace.", fields={"user_ids": "not_staff"}, code="not_staff"
        )
    return [users[i] for i in sorted(ids)]
