"""The OpenAPI 3 document of the whole HTTP API, served at ``GET /openapi.json``.

Written by hand next to the routes; ``tests/test_openapi.py`` checks that
every Klein route is documented and every documented path is routed.
"""

from __future__ import annotations

import copy

import mucsvc


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _object(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_INTEGER = {"type": "integer"}

_REFUSALS = {
    "400": _error("the body is not UTF-8, not JSON, not a JSON object, or a field is wrong"),
    "401": _error("Authorization missing, wrong, or given twice"),
    "413": _error("the body is over 64 KiB"),
}

_ROOM_PARAMETER = {"name": "room", "in": "path", "required": True, "schema": _STRING,
                   "description": "the room's bare JID, or its local part"}


def _query(name: str, description: str, schema=_STRING) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _admin(summary: str, command: str | None, responses: dict, *, body=None, parameters=(),
           room=True, large=None) -> dict:
    operation = {"summary": summary, "tags": ["room admin"],
                 "security": [{"muc_admin": []}],
                 "responses": {**responses, "401": _REFUSALS["401"]}}
    if command is not None:
        operation["x-ejabberd-command"] = command
    if body is not None:
        operation["requestBody"] = _body(body)
        operation["responses"].setdefault("400", _REFUSALS["400"])
        operation["responses"].update(large or {"413": _REFUSALS["413"]})
    parameters = ([_ROOM_PARAMETER] if room else []) + list(parameters)
    if parameters:
        operation["parameters"] = parameters
    if room:
        operation["responses"].setdefault("404", _error("no such room"))
    return operation


_STORE_FAILED = {"503": _error("the store could not keep the change: nothing changed")}

_HATS_QUERY = [{"name": "user", "in": "query", "required": True, "schema": _STRING},
               {"name": "muc", "in": "query", "required": True, "schema": _STRING}]

_HATS_ANSWER = {"200": _json(_ref("Hats"), "the user's hats afterwards"),
                "400": _error("a field is wrong"), "401": _REFUSALS["401"],
                "404": _error("no such room or hat")}

_ROOM_HATS_ANSWER = {"200": _json(_ref("RoomHats"), "the room's hats afterwards"),
                     "400": _error("a field is wrong"), "401": _REFUSALS["401"],
                     "404": _error("no such room or hat"), **_STORE_FAILED}


#: What the room APIs may also answer with ``component_slots`` (several
#: processes behind ejabberd, `mucsvc.web.slot_guard`).
ROOM_API_PREFIXES = ("/muc_admin", "/muc_kick", "/muc_moderate", "/muc_hats")
_STANDBY = "the process is a standby (component_slots): it serves no room"
_SLOT_ANSWERS = {
    "421": _error("the room is served by another process of the service (component_slots): "
                  "send the request to the process serving it"),
    "503": _error("the component link is down, or a store failure"),
}


def document() -> dict:
    """The OpenAPI document (a fresh dict)."""
    whole = copy.deepcopy(_document())  # answers are shared between operations
    for path, operations in whole["paths"].items():
        if not path.startswith(ROOM_API_PREFIXES):
            continue
        for operation in operations.values():
            responses = operation["responses"]
            refusal = responses.get("409")
            responses["409"] = _error(_STANDBY if refusal is None else
                                      f"{refusal['description']}; or: {_STANDBY}")
            for status, answer in _SLOT_ANSWERS.items():
                responses.setdefault(status, answer)
    return whole


def _document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "mucsvc HTTP API", "version": mucsvc.__version__,
                 "description": "Health, metrics, kick, moderation, hats and room "
                                "administration of the mucsvc group-chat service."},
        "servers": [{"url": "http://127.0.0.1:5280"}],
        "paths": {
            "/health": {"get": {
                "summary": "The component link's state (and the PostgreSQL database's)",
                "tags": ["service"],
                "responses": {"200": _json(_ref("Health"), "the link (and database) is up, "
                                           "or the process is a standby (component_slots)"),
                              "503": _json(_ref("Health"),
                                           "the link (or the database) is down")}}},
            "/metrics": {"get": {
                "summary": "Prometheus metrics", "tags": ["service"],
                "responses": {"200": {"description": "Prometheus text exposition format",
                                      "content": {"text/plain": {"schema": _STRING}}}}}},
            "/openapi.json": {"get": {
                "summary": "This document", "tags": ["service"],
                "responses": {"200": _json({"type": "object"}, "the OpenAPI document")}}},
            "/muc_kick": {"post": {
                "summary": "Kick (or ban) an occupant", "tags": ["kick"],
                "security": [{"muc_kick": []}],
                "requestBody": _body(_object({"nickname": _STRING, "muc": _STRING,
                                              "reason": _STRING, "ban": _BOOLEAN},
                                             ("nickname", "muc"))),
                "responses": {
                    "200": _json(_object({"kicked": _STRING, "muc": _STRING,
                                          "banned": _BOOLEAN}), "kicked (or banned)"),
                    **_REFUSALS, "404": _error("no such room or occupant"),
                    "405": _error("not POST"),
                    "409": _error("a ban of the room's last owner"), **_STORE_FAILED}}},
            "/muc_moderate": {"post": {
                "summary": "Retract a message of a room (XEP-0425)", "tags": ["moderation"],
                "security": [{"muc_moderate": []}],
                "requestBody": _body(_object({"muc": _STRING, "id": _STRING, "reason": _STRING},
                                             ("muc", "id"))),
                "responses": {
                    "200": _json(_object({"retracted": _STRING, "muc": _STRING,
                                          "already": _BOOLEAN}), "retracted"),
                    **_REFUSALS, "404": _error("no such room or message, or the endpoint is off"),
                    "405": _error("not POST"), **_STORE_FAILED}}},
            "/muc_hats": {
                "get": {"summary": "A user's hats in a room", "tags": ["hats"],
                        "security": [{"muc_hats": []}], "parameters": _HATS_QUERY,
                        "responses": _HATS_ANSWER},
                "put": {"summary": "Exactly these hats", "tags": ["hats"],
                        "security": [{"muc_hats": []}], "parameters": _HATS_QUERY,
                        "requestBody": _body(_ref("Hats")), "responses": _HATS_ANSWER}},
            "/muc_hats/add": {"post": {
                "summary": "Give a user a hat", "tags": ["hats"], "security": [{"muc_hats": []}],
                "requestBody": _body(_object({"user": _STRING, "muc": _STRING, "hat": _STRING,
                                              "attachment": {"type": "object"}},
                                             ("user", "muc", "hat"))),
                "responses": _HATS_ANSWER}},
            "/muc_hats/remove": {"post": {
                "summary": "Take a hat from a user", "tags": ["hats"],
                "security": [{"muc_hats": []}],
                "requestBody": _body(_object({"user": _STRING, "muc": _STRING, "hat": _STRING},
                                             ("user", "muc", "hat"))),
                "responses": _HATS_ANSWER}},
            "/muc_hats/definitions": {"get": {
                "summary": "The hats of a room (XEP-0317 v0.3): defined, or worn", "tags": ["hats"],
                "security": [{"muc_hats": []}],
                "parameters": [{"name": "muc", "in": "query", "required": True,
                                "schema": _STRING}],
                "responses": _ROOM_HATS_ANSWER}},
            "/muc_hats/definitions/create": {"post": {
                "summary": "Define a hat of a room, or give it a new title or hue",
                "tags": ["hats"], "security": [{"muc_hats": []}],
                "requestBody": _body(_object({"muc": _STRING, "hat": _STRING, "title": _STRING,
                                              "hue": {"type": "number", "nullable": True,
                                                      "minimum": 0, "exclusiveMaximum": True,
                                                      "maximum": 360}},
                                             ("muc", "hat", "title"))),
                "responses": _ROOM_HATS_ANSWER}},
            "/muc_hats/definitions/destroy": {"post": {
                "summary": "Destroy a hat of a room: taken off everyone who wears it",
                "tags": ["hats"], "security": [{"muc_hats": []}],
                "requestBody": _body(_object({"muc": _STRING, "hat": _STRING}, ("muc", "hat"))),
                "responses": _ROOM_HATS_ANSWER}},
            "/muc_admin/rooms": {
                "get": _admin(
                    "Rooms, paged by JID, with occupant counts", "muc_online_rooms",
                    {"200": _json(_object({"rooms": {"type": "array", "items": _ref("RoomSummary")},
                                           "complete": _BOOLEAN}), "a page of rooms"),
                     "400": _error("max is not an integer from 1 to 1000")},
                    parameters=[_query("after", "the JID of the last room of the previous page"),
                                _query("max", "page size, 1 to 1000 (default 100)", _INTEGER)],
                    room=False),
                "post": _admin(
                    "Create a room, unlocked, owned by owner", "create_room_with_opts",
                    {"201": _json(_ref("RoomOptions"), "created"),
                     "409": _error("the room exists already"), **_STORE_FAILED},
                    body=_object({"room": _STRING, "owner": _STRING, "options": _ref("Options")},
                                 ("room", "owner")), room=False)},
            "/muc_admin/rooms/{room}": {"get": _admin(
                "A room's options", "get_room_options",
                {"200": _json(_ref("RoomOptions"), "the room's options")})},
            "/muc_admin/rooms/{room}/occupants": {"get": _admin(
                "Who is in a room", "get_room_occupants",
                {"200": _json(_object({"jid": _STRING, "occupants": {
                    "type": "array", "items": _object({
                        "nick": _STRING, "role": _STRING, "affiliation": _STRING,
                        "jid": _STRING, "jids": {"type": "array", "items": _STRING}})}}),
                    "the occupants, by nick")})},
            "/muc_admin/rooms/{room}/affiliations": {
                "get": _admin("A room's affiliations, with reasons", "get_room_affiliations",
                              {"200": _json(_ref("Affiliations"), "every stored affiliation")}),
                "post": _admin(
                    "Change affiliations, all or none", "set_room_affiliation",
                    {"200": _json(_ref("Affiliations"), "every stored affiliation afterwards"),
                     "409": _error("the room would be left without an owner"), **_STORE_FAILED},
                    body=_object({"affiliations": {"type": "array", "items": _object(
                        {"jid": _STRING, "affiliation": {
                            "type": "string",
                            "enum": ["owner", "admin", "member", "none", "outcast"]},
                         "reason": _STRING}, ("jid", "affiliation"))}}, ("affiliations",)))},
            "/muc_admin/rooms/{room}/config": {"post": _admin(
                "Change a room's options", "change_room_option",
                {"200": _json(_ref("RoomOptions"), "the options afterwards"), **_STORE_FAILED},
                body=_object({"options": _ref("Options")}, ("options",)))},
            "/muc_admin/rooms/{room}/destroy": {"post": _admin(
                "Destroy a room", "destroy_room",
                {"200": _json(_object({"destroyed": _STRING}), "destroyed"), **_STORE_FAILED},
                body=_object({"reason": _STRING, "alternate_venue": _STRING}))},
            "/muc_admin/rooms/{room}/message": {"post": _admin(
                "A message from the room itself to everyone in it", None,
                {"200": _json(_object({"jid": _STRING, "sent_to": _INTEGER}), "sent")},
                body=_object({"body": _STRING}, ("body",)))},
            "/muc_admin/rooms/{room}/invitations": {"post": _admin(
                "Invite users (XEP-0249 direct invitations from the room)",
                "send_direct_invitation",
                {"200": _json(_object({"jid": _STRING, "invited": _INTEGER}), "sent")},
                body=_object({"users": {"type": "array", "items": _STRING},
                              "reason": _STRING, "password": _STRING}, ("users",)))},
            "/muc_admin/rooms/{room}/avatar": {
                "get": _admin(
                    "The room's avatar (XEP-0486)", None,
                    {"200": _json(_object({"jid": _STRING, "type": _STRING, "hash": _STRING,
                                           "data": _STRING}),
                                  "the image (data: base64) and its SHA-1 (hash, hex)"),
                     "404": _error("no such room, or it has no avatar")}),
                "put": _admin(
                    "Give the room an avatar; occupants are told its hash", None,
                    {"200": _json(_object({"jid": _STRING, "type": _STRING, "hash": _STRING,
                                           "bytes": _INTEGER}), "the room's avatar now"),
                     "400": _error("type is not an image type, or data is not base64"),
                     **_STORE_FAILED},
                    body=_object({"type": _STRING, "data": _STRING}, ("type", "data")),
                    large={"413": _error("the image is over muc_avatar_max_bytes "
                                         "(the body over what such an image needs)")}),
                "delete": _admin(
                    "Remove the room's avatar", None,
                    {"200": _json(_object({"jid": _STRING, "removed": _BOOLEAN}),
                                  "removed: whether the room had one"), **_STORE_FAILED})},
            "/muc_admin/rooms/{room}/archive": {"get": _admin(
                "A page of the room's archive (XEP-0313)", None,
                {"200": _json(_object({"jid": _STRING, "complete": _BOOLEAN, "messages": {
                    "type": "array", "items": _object({
                        "id": _STRING, "stamp": _STRING, "nick": _STRING, "author": _STRING,
                        "retracted": _BOOLEAN, "payload": _STRING})}}), "oldest first"),
                 "400": _error("max is not an integer from 1 to 1000")},
                parameters=[_query("max", "page size, 1 to 1000 (default 20)", _INTEGER),
                            _query("after", "messages after this id"),
                            _query("before", "messages before this id (the newest page)")])},
        },
        "components": {
            "securitySchemes": {
                name: {"type": "apiKey", "in": "header", "name": "Authorization",
                       "description": f"exactly the value of http_{name}_authorization_header"}
                for name in ("muc_kick", "muc_moderate", "muc_hats", "muc_admin")},
            "schemas": {
                "Error": _object({"error": _STRING}, ("error",)),
                "Health": _object({"component": _object({
                    "state": {"type": "string", "enum": ["up", "down"]}, "since": _STRING,
                    "reconnects": _INTEGER, "last_error": _STRING}),
                    "database": _object({
                        "state": {"type": "string", "enum": ["up", "down"]},
                        "since": _STRING, "reconnects": _INTEGER, "last_error": _STRING}),
                    "slot": _object({
                        "state": {"type": "string", "enum": ["standby", "holding", "fenced",
                                                             "stopped"]},
                        "holder": _STRING, "token": _INTEGER, "last_error": _STRING})}),
                "Hats": _object({"hats": {"type": "object", "additionalProperties": {
                    "type": "object"}}}, ("hats",)),
                "RoomHats": _object({"hats": {"type": "array", "items": _object(
                    {"uri": _STRING, "title": _STRING,
                     "hue": {"type": "number", "nullable": True}}, ("uri", "title", "hue"))}},
                    ("hats",)),
                "Options": {"type": "object", "description":
                            "room options by name: name, description, language, persistent, "
                            "public, members_only, allow_invites, moderated, password, whois, "
                            "change_subject, history_length, default_history_messages, "
                            "max_users, presence_broadcast, get_member_list, "
                            "allow_private_messages, allow_modpm, archiving"},
                "RoomOptions": _object({"jid": _STRING, "locked": _BOOLEAN,
                                        "occupants": _INTEGER, "options": _ref("Options")}),
                "RoomSummary": _object({"jid": _STRING, "name": _STRING, "occupants": _INTEGER,
                                        "persistent": _BOOLEAN, "public": _BOOLEAN,
                                        "locked": _BOOLEAN}),
                "Affiliations": _object({"jid": _STRING, "affiliations": {
                    "type": "array", "items": _object({
                        "jid": _STRING, "affiliation": _STRING, "reason": _STRING,
                        "nick": _STRING})}}),
            },
        },
    }
