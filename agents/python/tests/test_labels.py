"""test_labels.py - traceparent and baggage parsing: the W3C forms, percent-decoding, and bad and hostile
headers (a random-bytes property test: never raises, bounded, printable)."""

import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from loadctl_agent import labels  # noqa: E402

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


class Traceparent(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(labels.parse_traceparent("00-%s-%s-01" % (TRACE, SPAN)), (TRACE, SPAN))
        self.assertEqual(labels.parse_traceparent(b"00-%s-%s-00" % (TRACE.encode(), SPAN.encode())), (TRACE, SPAN))
        # a later version may append fields after a dash
        self.assertEqual(labels.parse_traceparent("01-%s-%s-01-extra" % (TRACE, SPAN)), (TRACE, SPAN))

    def test_invalid(self):
        bad = [
            "", "00", "garbage", "00-%s-%s-01x" % (TRACE, SPAN),  # version 00 must be exactly 55 chars
            "ff-%s-%s-01" % (TRACE, SPAN),  # version ff is invalid
            "00-%s-%s-01" % (TRACE.upper(), SPAN),  # upper-case hex is invalid
            "00-%s-%s-01" % ("0" * 32, SPAN),  # all-zero trace id
            "00-%s-%s-01" % (TRACE, "0" * 16),  # all-zero span id
            "00-%s-%s-0g" % (TRACE, SPAN), "00_%s_%s_01" % (TRACE, SPAN),
            "01-%s-%s-01extra" % (TRACE, SPAN), "0x-%s-%s-01" % (TRACE, SPAN),
            "00-%s-%s-01" % (TRACE[:31] + "z", SPAN), "x" * 100000, None, 42,
        ]
        for v in bad:
            self.assertIsNone(labels.parse_traceparent(v), repr(v)[:80])


class Baggage(unittest.TestCase):
    def test_decoded(self):
        got = labels.parse_baggage("loadctl.name=POST%20%2Fapi%2Forders,k6.name=POST%20%2Fapi%2Forders")
        self.assertEqual(got, [("loadctl.name", "POST /api/orders"), ("k6.name", "POST /api/orders")])

    def test_whitespace_properties_other_keys_duplicates(self):
        got = labels.parse_baggage(" userId=alice , loadctl.name = GET%20%2Fx ;prop=1;p2, loadctl.name=second,k6.name=")
        self.assertEqual(got, [("loadctl.name", "GET /x")])

    def test_utf8_and_bad_escapes(self):
        self.assertEqual(labels.parse_baggage("loadctl.name=caf%C3%A9"), [("loadctl.name", "café")])
        self.assertEqual(labels.parse_baggage("loadctl.name=%FF%zz%"), [("loadctl.name", "\ufffd%zz%")])
        self.assertEqual(labels.parse_baggage(b"loadctl.name=GET%20%2F\xc3\xa9"), [("loadctl.name", "GET /é")])

    def test_control_characters_and_length(self):
        got = labels.parse_baggage("loadctl.name=a%0Ab%00c%1B[31m")
        self.assertEqual(got, [("loadctl.name", "a b c [31m")])
        got = labels.parse_baggage("loadctl.name=" + "x" * 5000)
        self.assertEqual(len(got[0][1]), labels.VALUE_MAX_CHARS)

    def test_member_and_byte_limits(self):
        many = ",".join("k%d=v" % i for i in range(labels.BAGGAGE_MAX_MEMBERS)) + ",loadctl.name=late"
        self.assertEqual(labels.parse_baggage(many), [])  # the 181st member is past the W3C limit
        far = "a=" + "x" * labels.BAGGAGE_MAX_BYTES + ",loadctl.name=far"
        self.assertEqual(labels.parse_baggage(far), [])


class Requests(unittest.TestCase):
    def test_environ(self):
        env = {"HTTP_TRACEPARENT": "00-%s-%s-01" % (TRACE, SPAN), "HTTP_BAGGAGE": "k6.name=GET%20%2Fa"}
        self.assertEqual(labels.from_environ(env), (("trace_id", TRACE), ("span_id", SPAN), ("k6.name", "GET /a")))
        self.assertEqual(labels.from_environ({}), ())

    def test_asgi_scope(self):
        scope = {"headers": [(b"host", b"x"), (b"traceparent", ("00-%s-%s-01" % (TRACE, SPAN)).encode()),
                             (b"baggage", b"loadctl.name=GET%20%2Fb")]}
        self.assertEqual(labels.from_asgi_scope(scope),
                         (("trace_id", TRACE), ("span_id", SPAN), ("loadctl.name", "GET /b")))
        for bad in ({}, {"headers": None}, {"headers": [b"x"]}, {"headers": [(1, 2, 3)]}, {"headers": 5},
                    {"headers": [(b"baggage", 12)]}):
            self.assertEqual(labels.from_asgi_scope(bad), (), repr(bad))

    def test_with_label(self):
        got = labels.with_label((("a", "1"), ("http.route", "/x")), "http.route", "/y\n")
        self.assertEqual(got, (("a", "1"), ("http.route", "/y")))


class Raw(unittest.TestCase):
    """The request path keeps the headers unparsed; resolve() gives what from_headers would."""

    def test_resolve_matches_parsing(self):
        tp, bg = "00-%s-%s-01" % (TRACE, SPAN), "loadctl.name=GET%20%2Fa"
        r = labels.raw(tp, bg)
        self.assertIs(r[0], labels.RAW)
        self.assertEqual(labels.resolve(r), labels.from_headers(tp, bg))
        routed = labels.with_label(labels.with_label(r, "http.route", "/a"), "http.route", "/b")
        self.assertEqual(labels.resolve(routed), labels.from_headers(tp, bg) + (("http.route", "/b"),))
        self.assertEqual(labels.raw(None, None), ())
        self.assertEqual(labels.resolve(()), ())

    def test_long_or_odd_headers_are_parsed_at_once(self):
        long = "loadctl.name=x," + "k=" + "v" * labels.RAW_MAX
        self.assertEqual(labels.raw(None, long), (("loadctl.name", "x"),))
        self.assertEqual(labels.raw(12, None), ())

    def test_raw_scope(self):
        scope = {"headers": [(b"baggage", b"k6.name=GET%20%2Fb"), (b"baggage", b"k6.name=second")]}
        self.assertEqual(labels.resolve(labels.raw_asgi_scope(scope)), (("k6.name", "GET /b"),))
        for bad in ({}, {"headers": 5}, {"headers": [(1, 2, 3)]}):
            self.assertEqual(labels.resolve(labels.raw_asgi_scope(bad)), (), repr(bad))


class Hostile(unittest.TestCase):
    """Property: for any bytes or str, parsing never raises, returns at most the known keys, values are
    printable and bounded, and a megabyte of header costs little time."""

    def check(self, out):
        self.assertIsInstance(out, tuple)
        keys = [k for k, _ in out]
        self.assertEqual(len(keys), len(set(keys)))
        for k, v in out:
            self.assertIn(k, ("trace_id", "span_id", "loadctl.name", "k6.name"))
            self.assertTrue(v.isprintable(), repr(v))
            self.assertLessEqual(len(v), labels.VALUE_MAX_CHARS)

    def test_random_bytes(self):
        rng = random.Random(19)
        alphabet = b"0123456789abcdef-=,;% \t\r\n\x00\xff\xc3loadctl.namek6"
        for i in range(3000):
            n = rng.randint(0, 300)
            if i % 2:
                raw = bytes(rng.randrange(256) for _ in range(n))
            else:
                raw = bytes(rng.choice(alphabet) for _ in range(n))
            for tp, bg in ((raw, raw), (raw.decode("latin-1"), raw.decode("latin-1")),
                           (None, b"loadctl.name=" + raw), (b"00-" + raw, "k6.name=" + raw.decode("latin-1"))):
                self.check(labels.from_headers(tp, bg))
                self.check(labels.resolve(labels.raw(tp, bg)))
                self.check(labels.from_asgi_scope({"headers": [(b"traceparent", tp if isinstance(tp, bytes) else b""),
                                                               (b"baggage", bg if isinstance(bg, bytes) else b"")]}))

    def test_huge_headers_are_cheap(self):
        big = ("loadctl.name=" + "%41" * 400000 + ",") * 3
        t0 = time.monotonic()
        out = labels.from_headers("00-" + "a" * 1000000, big)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.check(out)
        self.assertEqual(out, (("loadctl.name", "A" * labels.VALUE_MAX_CHARS),))


if __name__ == "__main__":
    unittest.main()
