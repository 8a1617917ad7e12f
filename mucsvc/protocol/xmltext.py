"""Writing XML as text, for stanzas the service composes itself.

The broadcast path builds each outgoing stanza once as a string and only
varies the ``to`` attribute per recipient (see ``fanout``), which is far
cheaper than building and serializing a ``domish.Element`` per recipient.
These helpers keep that string-building correct: every value that came from
a user is escaped here, nowhere else.
"""

from __future__ import annotations

_TEXT_SPECIALS = ("&", "<", ">")


def escape_text(value: str) -> str:
    """Character data: ``&``, ``<`` and ``>`` escaped."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def escape_attr(value: str) -> str:
    """An attribute value for use between double quotes."""
    value = escape_text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    return value


def attrs(pairs) -> str:
    """`` name="value"`` for each pair whose value is not None, in order."""
    return "".join(f' {name}="{escape_attr(value)}"' for name, value in pairs if value is not None)


def element(name: str, attributes=(), content: str = "") -> str:
    """``<name attrs>content</name>``, or ``<name attrs/>`` when empty.

    ``content`` is XML already (escape text with :func:`escape_text`).
    """
    if content:
        return f"<{name}{attrs(attributes)}>{content}</{name}>"
    return f"<{name}{attrs(attributes)}/>"


def text_element(name: str, text: str, attributes=()) -> str:
    """An element holding escaped character data."""
    return element(name, attributes, escape_text(text)) if text else element(name, attributes)


def serialize_children(stanza, skip=lambda child: False) -> str:
    """The child elements of a parsed stanza, as XML in the stanza's namespace.

    Children in the stanza's own default namespace (``jabber:client`` or the
    component's ``jabber:component:accept``) are written without an
    ``xmlns`` so that they inherit the namespace of the stanza we embed them
    in; children in other namespaces keep theirs.
    """
    default = stanza.uri
    return "".join(child.toXml(defaultUri=default) for child in stanza.elements()
                   if not skip(child))
