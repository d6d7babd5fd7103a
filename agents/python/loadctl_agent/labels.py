"""labels.py - request labels from the headers loadctl sends: W3C `traceparent` (trace_id, span_id) and
W3C `baggage` members `loadctl.name` / `k6.name` (percent-decoded), as a tuple of (key, value) pairs.

Headers come from the network and may be hostile: every input is bounded (W3C's 8192-byte baggage limit,
180 members, 256-character values), malformed parts are dropped rather than raised, and the values that
come out are printable text. Nothing here raises on any str or bytes input."""

import re
from urllib.parse import unquote

BAGGAGE_MAX_BYTES = 8192  # W3C baggage: a platform must propagate at least this much; we read no more
BAGGAGE_MAX_MEMBERS = 180  # W3C baggage: at most 180 list members
VALUE_MAX_CHARS = 256  # a label value longer than this is cut (request names are short)
BAGGAGE_KEYS = ("loadctl.name", "k6.name")
BAGGAGE_CACHE_MAX = 512  # parsed baggage headers kept (the same request names come back all the time)
_baggage_cache = {}


def _text(value):
    """A header value as str (WSGI gives str, ASGI bytes: decoded as UTF-8); None when it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return None


_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?", re.DOTALL)
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


def parse_traceparent(value):
    """(trace_id, span_id) from a W3C traceparent `vv-<32 hex>-<16 hex>-ff`, or None when malformed.
    Version ff is invalid; version 00 must be exactly 55 characters; later versions may append fields."""
    s = _text(value)
    if s is None or len(s) > 512:
        return None
    m = _TRACEPARENT.fullmatch(s.strip())
    if m is None or m.group(1) == "ff" or (m.group(1) == "00" and m.group(4) is not None):
        return None
    if m.group(2) == _ZERO_TRACE or m.group(3) == _ZERO_SPAN:
        return None
    return m.group(2), m.group(3)


def clean_value(value):
    """A label value: control characters become spaces, cut at VALUE_MAX_CHARS."""
    value = value[:VALUE_MAX_CHARS]
    if not value.isprintable():
        value = "".join(c if c.isprintable() else " " for c in value)
    return value.strip()


def parse_baggage(value, keys=BAGGAGE_KEYS):
    """[(key, decoded value)] for the baggage members whose key is in keys, first occurrence of each."""
    s = _text(value)
    if not s:
        return []
    if keys is BAGGAGE_KEYS:
        hit = _baggage_cache.get(s)
        if hit is not None:
            return list(hit)
    out = _parse_baggage(s, keys)
    if keys is BAGGAGE_KEYS and len(s) <= 1024:
        if len(_baggage_cache) >= BAGGAGE_CACHE_MAX:
            _baggage_cache.clear()
        _baggage_cache[s] = tuple(out)
    return out


def _parse_baggage(s, keys):
    out, seen = [], set()
    for member in s[:BAGGAGE_MAX_BYTES].split(",")[:BAGGAGE_MAX_MEMBERS]:
        key, eq, rest = member.partition("=")
        key = key.strip()
        if not eq or key not in keys or key in seen:
            continue
        raw = rest.split(";", 1)[0].strip()  # properties after ';' are not part of the value
        try:
            decoded = unquote(raw, encoding="utf-8", errors="replace") if "%" in raw else raw
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


class _Raw:
    """The first element of a label tuple whose headers are parsed only when a sample is encoded."""

    def __repr__(self):
        return "RAW"


RAW = _Raw()
RAW_MAX = 1024  # longer headers are parsed at once, so a held label tuple stays small


def raw(traceparent, baggage):
    """A label tuple for the request path: (RAW, traceparent, baggage) as received, parsed by resolve()
    only if a profile needs it (most requests are never sampled). Headers longer than RAW_MAX, or of
    another type than str/bytes, are parsed now. Never raises."""
    if traceparent is None and baggage is None:
        return ()
    return bounded((RAW, traceparent, baggage))


def bounded(labels):
    """A label tuple fit to be kept (a profile's key): a raw one whose headers are not str or bytes, or are
    longer than RAW_MAX, is parsed now (a WSGI request's tuple is made without this check: the sampler applies
    it to the tuples it keeps). Never raises."""
    if labels and labels[0] is RAW:
        for h in labels[1:3]:
            if h is not None and (type(h) not in (str, bytes) or len(h) > RAW_MAX):
                return resolve(labels)
    return labels


def resolve(labels):
    """The (key, value) pairs of a label tuple, parsing a raw one (with the labels set on it since)."""
    if not labels or labels[0] is not RAW:
        return labels
    out = from_headers(labels[1], labels[2])
    for key, value in labels[3:]:
        out = with_label(out, key, value)
    return out


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


def raw_asgi_scope(scope):
    """raw() of an ASGI scope: the first traceparent and baggage headers, unparsed."""
    tp = bg = None
    try:
        for pair in scope.get("headers") or ():
            if type(pair) in (tuple, list) and len(pair) == 2:
                if pair[0] == b"traceparent" and tp is None:
                    tp = pair[1]
                elif pair[0] == b"baggage" and bg is None:
                    bg = pair[1]
    except Exception:
        return ()
    return raw(tp, bg)


def with_label(labels, key, value):
    """labels with key set to value (replacing an earlier one); on a raw tuple the pair is appended and
    applied by resolve()."""
    value = value if type(value) is str and len(value) <= VALUE_MAX_CHARS and value.isprintable() else clean_value(str(value))
    if labels and labels[0] is RAW:
        return labels + ((key, value),)
    for k, _ in labels:
        if k == key:
            return tuple(p for p in labels if p[0] != key) + ((key, value),)
    return labels + ((key, value),)
