"""Stanzas as ElementTree elements: read from script XML, written back out.

Script XML is read inside a wrapper that declares what a client stream
declares (default namespace ``jabber:client``) plus the ``scansion:``
prefix the scripts use without declaring it (``scansion:strict``). Written
out, an element declares its namespace only where it differs from its
parent's, the way XMPP stanzas look on the wire and in the scripts, so
failure messages read like the scripts.
"""

from __future__ import annotations

from xml.etree import ElementTree

CLIENT_NS = "jabber:client"
SCANSION_NS = "https://matthewwild.co.uk/projects/scansion"
XML_NS = "http://www.w3.org/XML/1998/namespace"
STRICT_ATTRIBUTE = f"{{{SCANSION_NS}}}strict"
ANY_VALUE = "{scansion:any}"

_KNOWN_PREFIXES = {XML_NS: "xml", SCANSION_NS: "scansion"}


class StanzaSyntaxError(ValueError):
    """Script XML that is not well-formed (after variable substitution)."""


def parse_stanzas(xml_text: str) -> list[ElementTree.Element]:
    """The top-level elements of ``xml_text``, in the ``jabber:client`` namespace."""
    wrapped = (
        f"<scansion-block xmlns='{CLIENT_NS}' xmlns:scansion='{SCANSION_NS}'>"
        f"{xml_text}</scansion-block>"
    )
    try:
        block = ElementTree.fromstring(wrapped)
    except ElementTree.ParseError as error:
        raise StanzaSyntaxError(f"{error} in:\n{xml_text}") from None
    stray = (block.text or "") + "".join(child.tail or "" for child in block)
    if stray.strip():
        raise StanzaSyntaxError(f"text outside any stanza: {stray.strip()!r}")
    if len(block) == 0:
        raise StanzaSyntaxError(f"no stanza in:\n{xml_text}")
    return list(block)


def split_tag(tag: str) -> tuple[str, str]:
    """``'{ns}name'`` -> ``('ns', 'name')``; no namespace gives ``''``."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def own_text(element: ElementTree.Element) -> str:
    """The element's character data; indentation-only text counts as none."""
    text = (element.text or "") + "".join(child.tail or "" for child in element)
    return text if text.strip() else ""


def to_xml(
    element: ElementTree.Element,
    *,
    parent_ns: str = CLIENT_NS,
    pretty: bool = False,
) -> str:
    """Serialize ``element``; ``pretty`` indents children for reading.

    Indentation-only text is dropped either way: it is layout of the script,
    not content of the stanza.
    """
    out: list[str] = []
    _write(element, parent_ns, pretty, 0, out)
    return "".join(out)


def _write(element, parent_ns, pretty, depth, out) -> None:
    namespace, name = split_tag(element.tag)
    attributes = []
    if namespace != parent_ns:
        attributes.append(f'xmlns="{_escape(namespace, attribute=True)}"')
    declared: dict[str, str] = {}
    for key, value in element.attrib.items():
        attr_ns, attr_name = split_tag(key)
        if attr_ns == XML_NS:
            attr_name = f"xml:{attr_name}"
        elif attr_ns:
            prefix = declared.get(attr_ns) or _KNOWN_PREFIXES.get(attr_ns) or f"ns{len(declared)}"
            declared[attr_ns] = prefix
            attr_name = f"{prefix}:{attr_name}"
        attributes.append(f'{attr_name}="{_escape(value, attribute=True)}"')
    for attr_ns, prefix in declared.items():
        if attr_ns == SCANSION_NS:
            continue  # shown as the scripts write it, undeclared
        attributes.append(f'xmlns:{prefix}="{_escape(attr_ns, attribute=True)}"')

    indent = "  " * depth if pretty else ""
    opening = name + "".join(" " + attribute for attribute in attributes)
    text = own_text(element)
    children = list(element)
    if not children and not text:
        out.append(f"{indent}<{opening}/>")
        return
    if not children:
        out.append(f"{indent}<{opening}>{_escape(text)}</{name}>")
        return
    out.append(f"{indent}<{opening}>")
    if element.text and element.text.strip():
        out.append(_escape(element.text))
    for child in children:
        if pretty:
            out.append("\n")
        _write(child, namespace, pretty, depth + 1, out)
        if child.tail and child.tail.strip():
            out.append(_escape(child.tail))
    if pretty:
        out.append("\n" + indent)
    out.append(f"</{name}>")


def _escape(value: str, attribute: bool = False) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return value
