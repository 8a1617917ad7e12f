"""Reading submitted data forms (XEP-0004) the lenient way clients send them.

Clients often leave out field types in what they submit, and wokkel's
``Form.fromElement`` then misses ``FORM_TYPE``; these helpers read values by
``var`` alone.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces


def form_values(form_element) -> dict:
    """``var`` -> first value text of each field, whatever the field's type
    (clients often omit ``type`` on submitted fields)."""
    values = {}
    for field in form_element.elements(namespaces.DATA_FORMS, "field"):
        var = field.getAttribute("var")
        if var is None or var in values:
            continue
        value = next(field.elements(namespaces.DATA_FORMS, "value"), None)
        values[var] = str(value) if value is not None else None
    return values


def form_type(form_element) -> str | None:
    return form_values(form_element).get("FORM_TYPE")


def form_all_values(form_element) -> dict:
    """``var`` -> list of value texts, for multi-valued fields too.  When a
    ``var`` repeats, the first field counts, as in Prosody."""
    values = {}
    for field in form_element.elements(namespaces.DATA_FORMS, "field"):
        var = field.getAttribute("var")
        if var and var not in values:
            values[var] = [str(v) for v in field.elements(namespaces.DATA_FORMS, "value")]
    return values
