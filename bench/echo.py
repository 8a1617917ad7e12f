"""The ceiling: the simplest fan-out component a host server can carry.

``python -m bench.echo --port P --domain echo.localhost --secret S`` connects
to the host server as a component.  A presence to ``room@DOMAIN/nick``
makes its sender a member of that room and is answered with one presence;
each groupchat message to ``room@DOMAIN`` is sent back, once per member,
as ``room@DOMAIN/nick``, with an ``<occupant-id/>`` as a real MUC adds
(XEP-0421), so that the host server routes stanzas of the same size.  No XML library, no checks, no history: what is
left is what the host server itself costs to route a room's traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import pathlib
import re

from bench.xmpp import ComponentLink

STANZA = re.compile(rb"<(message|presence|iq)\b([^>]*?)(?:/>|>(.*?)</\1>)", re.S)
ATTRIBUTE = re.compile(rb"""([\w:]+)=(['"])(.*?)\2""", re.S)


class Echo(ComponentLink):
    def __init__(self, domain: str, secret: str):
        super().__init__("connect", domain, secret)
        # room -> {user jid: (nick, occupant-id element)}
        self.rooms: dict[bytes, dict[bytes, tuple[bytes, bytes]]] = {}
        self._pending = b""

    def _count(self, data: bytes):
        self._pending += data
        out = []
        end = 0
        for match in STANZA.finditer(self._pending):
            end = match.end()
            name, attributes, content = match.group(1), match.group(2), match.group(3)
            attrs = {key: value for key, _, value in ATTRIBUTE.findall(attributes)}
            handler = getattr(self, "on_" + name.decode())
            handler(attrs, content or b"", out)
        self._pending = self._pending[end:]
        if out:
            self.transport.write(b"".join(out))

    def on_presence(self, attrs, content, out):
        to, sender = attrs.get(b"to", b""), attrs.get(b"from", b"")
        room, _, nick = to.partition(b"/")
        members = self.rooms.setdefault(room, {})
        if attrs.get(b"type") == b"unavailable":
            members.pop(sender, None)
            return
        digest = base64.b64encode(hashlib.sha256(room + b"\0" + sender).digest())
        members[sender] = (nick, b"<occupant-id xmlns='urn:xmpp:occupant-id:0' id='"
                           + digest + b"'/>")
        out.append(b"<presence from='" + to + b"' to='" + sender + b"'><x xmlns='"
                   b"http://jabber.org/protocol/muc#user'><item affiliation='none' "
                   b"role='participant'/><status code='110'/></x></presence>")

    def on_message(self, attrs, content, out):
        if attrs.get(b"type") != b"groupchat":
            return
        room = attrs.get(b"to", b"")
        members = self.rooms.get(room)
        if not members:
            return
        nick, occupant_id = members.get(attrs.get(b"from", b""), (b"", b""))
        head = (b"<message from='" + room + b"/" + nick + b"' type='groupchat' id='"
                + attrs.get(b"id", b"") + b"' to='")
        tail = b"'>" + content + occupant_id + b"</message>"
        out.append(b"".join(head + jid + tail for jid in members))

    def on_iq(self, attrs, content, out):
        if attrs.get(b"type") in (b"get", b"set"):
            out.append(b"<iq type='result' from='" + attrs.get(b"to", b"") + b"' to='"
                       + attrs.get(b"from", b"") + b"' id='" + attrs.get(b"id", b"") + b"'/>")


async def serve(port: int, domain: str, secret: str, ready_file: str | None):
    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(lambda: Echo(domain, secret), "127.0.0.1", port)
    await asyncio.wait_for(link.ready, 10)
    if ready_file:
        pathlib.Path(ready_file).write_text("ready\n")
    await link.closed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--domain", default="echo.localhost")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--ready-file")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.domain, args.secret, args.ready_file))


if __name__ == "__main__":
    main()
