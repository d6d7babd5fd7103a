"""labels.py - request labels from the headers loadctl sends: W3C `traceparent` (trace_id, span_id) and
W3C `baggage` members `loadctl.name` / `k6.name` (percent-decoded), as a tuple of (key, value) pairs.

Headers come from the network and may be hostile: every input is bounded (W3C's 8192-byte baggage limit,
180 members, 256-character values), malformed parts are dropped rather than raised, and the values that
come out are printable text. Nothing here raises on any str or bytes input."""

from urllib.parse import unquote

BAGGAGE_MAX_BYTES = 8192  # W3C baggage: a platform must propagate at least this much; we read no more
BAGGAGE_MAX_MEMBERS = 180  # W3C baggage: at most 180 list members
VALUE_MAX_CHARS = 256  # a label value longer than this is cut (request names are short)
BAGGAGE_KEYS = ("loadctl.name", "k6.name")
_HEX = frozenset("0123456789abcdef")


def _text(value):
    """A header value as str (WSGI gives str, ASGI bytes: decoded as UTF-8); None when it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def _hex(s, n):
    return len(s) == n and all(c in _HEX for c in s) and s != "0" * n


def parse_traceparent(value):
    """(trace_id, span_id) from a W3C traceparent `vv-<32 hex>-<16 hex>-ff`, or None when malformed.
    Version ff is invalid; version 00 must be exactly 55 characters; later versions may append fields."""
    s = _text(value)
    if s is None:
        return None
    s = s.strip()
    if len(s) < 55 or len(s) > 512:
        return None
    parts = s[:55].split("-")
    if len(parts) != 4 or not all(c in _HEX for c in parts[0]) or len(parts[0]) != 2 or parts[0] == "ff":
        return None
    if parts[0] == "00" and len(s) != 55:
        return None
    if len(s) > 55 and s[55] != "-":
        return None
    if not _hex(parts[1], 32) or not _hex(parts[2], 16) or len(parts[3]) != 2 or not all(c in _HEX for c in parts[3]):
        return None
    return parts[1], parts[2]


def clean_value(value):
    """A label value: control characters become spaces, cut at VALUE_MAX_CHARS."""
    out = "".join(c if c.isprintable() else " " for c in value[:VALUE_MAX_CHARS])
    return out.strip()


def parse_baggage(value, keys=BAGGAGE_KEYS):
    """[(key, decoded value)] for the baggage members whose key is in keys, first occurrence of each."""
    s = _text(value)
    if not s:
        return []
    out, seen = [], set()
    for member in s[:BAGGAGE_MAX_BYTES].split(",")[:BAGGAGE_MAX_MEMBERS]:
        key, eq, rest = member.partition("=")
        key = key.strip()
        if not eq or key not in keys or key in seen:
            continue
        raw = rest.split(";", 1)[0].strip()  # properties after ';' are not part of the value
        try:
            decoded = unquote(raw, encoding="utf-8", errors="replace")
        except Exception:  # never raise on hostile input
            continue
        decoded = clean_value(decoded)
        if decoded:
            seen.add(key)
            out.append((key, decoded))
    return out


def from_headers(traceparent, baggage):
    """The label tuple of one request: trace_id, span_id, then the baggage names. Empty on bad input."""
    try:
        labels = []
        tp = parse_traceparent(traceparent) if traceparent is not None else None
        if tp:
            labels += [("trace_id", tp[0]), ("span_id", tp[1])]
        if baggage is not None:
            labels += parse_baggage(baggage)
        return tuple(labels)
    except Exception:
        return ()


def from_environ(environ):
    """Labels of a WSGI request (HTTP_TRACEPARENT, HTTP_BAGGAGE)."""
    return from_headers(environ.get("HTTP_TRACEPARENT"), environ.get("HTTP_BAGGAGE"))


def from_asgi_scope(scope):
    """Labels of an ASGI http/websocket scope (headers: list of (bytes, bytes), names lower-case)."""
    tp = bg = None
    try:
        for pair in list(scope.get("headers") or ())[:1000]:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                continue
            name, value = pair
            if name == b"traceparent" and tp is None:
                tp = value
            elif name == b"baggage" and bg is None:
                bg = value
    except Exception:
        return ()
    return from_headers(tp, bg)


def with_label(labels, key, value):
    """labels with key set to value (replacing an earlier one)."""
    return tuple(p for p in labels if p[0] != key) + ((key, clean_value(str(value))),)
