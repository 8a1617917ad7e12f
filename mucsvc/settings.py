"""From the configuration file to the domain's ``ServiceLimits``.

The file speaks Prosody's names (``restrict_room_creation``,
``muc_room_default_*``, ``muc_event_rate``…); the domain has its own terms.
This is the one place that translates between the two.
"""

from __future__ import annotations

from mucsvc.config import Config
from mucsvc.rooms import RoomConfig, ServiceLimits


def default_room_config(config: Config) -> RoomConfig:
    """What a new room looks like before its owner configures it."""
    return RoomConfig(
        public=config.muc_room_default_public,
        persistent=config.muc_room_default_persistent,
        members_only=config.muc_room_default_members_only,
        moderated=config.muc_room_default_moderated,
        whois="anyone" if config.muc_room_default_public_jids else "moderators",
        language=config.muc_room_default_language,
        change_subject=config.muc_room_default_change_subject,
        history_length=config.muc_room_default_history_length,
        default_history_messages=config.muc_room_default_history_length,
        allow_invites=config.muc_room_default_allow_member_invites,
    )


def room_creation_policy(config: Config):
    policy = config.restrict_room_creation
    if policy is False:
        return "anyone"
    if policy is True or policy == "admin":
        return "admins"
    return frozenset(policy)


def service_limits(config: Config) -> ServiceLimits:
    return ServiceLimits(
        max_history_messages=config.max_history_messages,
        default_config=default_room_config(config),
        room_creation=room_creation_policy(config),
        lock_new_rooms=config.muc_room_locking,
        locked_room_timeout=float(config.muc_room_lock_timeout),
        max_rooms=config.max_rooms,
        max_rooms_per_user=config.max_rooms_per_user,
        max_occupants=config.max_occupants,
        event_rate=float(config.muc_event_rate),
        burst_factor=config.muc_burst_factor,
        signal_rate=float(config.muc_bodyless_event_rate),
        signal_burst_factor=config.muc_bodyless_burst_factor,
        max_chars=config.muc_max_char_count,
        max_stanza_size=config.muc_max_stanza_size,
        log_by_default=config.muc_log_by_default,
        log_all_rooms=config.muc_log_all_rooms,
        tombstone_ttl=float(config.muc_tombstone_expiry) if config.muc_tombstones else None,
        max_avatar_bytes=config.muc_avatar_max_bytes,
    )
