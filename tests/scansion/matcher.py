"""Does a received stanza satisfy the one a script expects? scansion's rules.

Two modes:

* non-strict, the default for elements in the stanza's own namespace
  (``jabber:client``): every expected attribute is present with the same
  value, every expected child is matched by a received child (each received
  child serves one expected child), extra attributes and children and the
  order of children are ignored; expected text, if any, must be equal.
* strict, for every element that brings its own namespace (``<x
  xmlns='...muc#user'>``, ``<delay>``, ``<query>``, error conditions) and its
  descendants: the same attributes both ways, the same children in the same
  order, the same text.

``scansion:strict="true"|"false"`` on an expected element sets the mode for
it and its descendants. An expected attribute value ``{scansion:any}``
requires the attribute but accepts any value.

Where scansion's documentation is silent, this matcher takes the stricter
reading that Prosody's MUC still passes in full: non-strict elements compare
their text when the script gives one (``<body>``, ``<status>``; an empty
``<subject/>`` accepts any subject), and two expected children cannot both
be satisfied by the same received child. Indentation of the script is
layout, not text.

``mismatch`` returns None for a match, else one line saying where and how
the stanzas differ, for failure messages.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from tests.scansion.stanzas import (
    ANY_VALUE,
    CLIENT_NS,
    STRICT_ATTRIBUTE,
    own_text,
    split_tag,
    to_xml,
)


def matches(expected: Element, received: Element) -> bool:
    return mismatch(expected, received) is None


def mismatch(expected: Element, received: Element) -> str | None:
    """Why ``received`` does not satisfy ``expected``, or None if it does."""
    return _compare(expected, received, parent_ns=CLIENT_NS, inherited_strict=False, path="")


def _strict_mode(expected: Element, parent_ns: str, inherited_strict: bool) -> bool:
    explicit = expected.get(STRICT_ATTRIBUTE)
    if explicit is not None:
        if explicit not in ("true", "false"):
            raise ValueError(f'scansion:strict must be "true" or "false", not {explicit!r}')
        return explicit == "true"
    namespace, _ = split_tag(expected.tag)
    return True if namespace != parent_ns else inherited_strict


def _label(element: Element, parent_ns: str) -> str:
    namespace, name = split_tag(element.tag)
    return name if namespace == parent_ns else f"{name}[{namespace}]"


def _compare(expected, received, parent_ns, inherited_strict, path, position=None) -> str | None:
    path = f"{path}/{_label(expected, parent_ns)}" + (f"#{position}" if position else "")
    if expected.tag != received.tag:
        return f"{path}: got <{_label(received, parent_ns)}> instead"
    strict = _strict_mode(expected, parent_ns, inherited_strict)
    namespace, _ = split_tag(expected.tag)
    return (
        _compare_attributes(expected, received, strict, path)
        or _compare_text(expected, received, strict, path)
        or _compare_children(expected, received, strict, namespace, path)
    )


def _compare_attributes(expected, received, strict, path) -> str | None:
    wanted = {key: value for key, value in expected.attrib.items() if key != STRICT_ATTRIBUTE}
    for key, value in wanted.items():
        got = received.get(key)
        if got is None:
            return f"{path}: attribute {_attr_name(key)}={value!r} missing"
        if value != ANY_VALUE and got != value:
            return f"{path}: attribute {_attr_name(key)}={got!r}, expected {value!r}"
    if strict:
        extra = sorted(set(received.attrib) - set(wanted))
        if extra:
            shown = ", ".join(f"{_attr_name(key)}={received.get(key)!r}" for key in extra)
            return f"{path}: unexpected attribute {shown} (strict)"
    return None


def _attr_name(key: str) -> str:
    namespace, name = split_tag(key)
    return f"{{{namespace}}}{name}" if namespace else name


def _compare_text(expected, received, strict, path) -> str | None:
    wanted, got = own_text(expected), own_text(received)
    if (wanted or strict) and wanted != got:
        return f"{path}: text {got!r}, expected {wanted!r}"
    return None


def _compare_children(expected, received, strict, namespace, path) -> str | None:
    wanted, got = list(expected), list(received)
    if strict:
        return _compare_in_order(wanted, got, namespace, path)
    return _compare_as_set(wanted, got, namespace, path)


def _compare_in_order(wanted, got, namespace, path) -> str | None:
    for index, (child, candidate) in enumerate(zip(wanted, got)):
        reason = _compare(child, candidate, namespace, True, path, position=index + 1)
        if reason:
            return reason
    if len(got) > len(wanted):
        return f"{path}: unexpected child {to_xml(got[len(wanted)], parent_ns=namespace)} (strict)"
    if len(wanted) > len(got):
        return f"{path}: missing child {to_xml(wanted[len(got)], parent_ns=namespace)}"
    return None


def _compare_as_set(wanted, got, namespace, path) -> str | None:
    """Each expected child needs its own received child, in any order."""
    candidates = [
        [
            index
            for index, child in enumerate(got)
            if _compare(want, child, namespace, False, path) is None
        ]
        for want in wanted
    ]
    for want, options in zip(wanted, candidates):
        if not options:
            return _closest_miss(want, got, namespace, path)
    if _assign(candidates, 0, set()):
        return None
    return f"{path}: expected children cannot each be matched by a different received child"


def _assign(candidates, position, taken) -> bool:
    if position == len(candidates):
        return True
    for index in candidates[position]:
        if index not in taken:
            taken.add(index)
            if _assign(candidates, position + 1, taken):
                return True
            taken.discard(index)
    return False


def _closest_miss(want, got, namespace, path) -> str:
    same_name = [child for child in got if child.tag == want.tag]
    if not same_name:
        return f"{path}: missing child {to_xml(want, parent_ns=namespace)}"
    reasons = [_compare(want, child, namespace, False, path) for child in same_name]
    if len(reasons) == 1:
        return reasons[0]
    return f"{path}: no child matches {to_xml(want, parent_ns=namespace)}; e.g. {reasons[0]}"
