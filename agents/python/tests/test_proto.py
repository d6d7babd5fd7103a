"""test_proto.py - the hand-written profile.proto encoder: varints, a round trip through an independent
wire reader, then loadctl's own decoder (build/pprof_tool) and `go tool pprof -top`."""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from loadctl_agent import proto  # noqa: E402

import pbread  # noqa: E402

BUILD = os.environ.get("LOADCTL_BUILD", "")


def sample_profile():
    b = proto.Builder([("samples", "count"), ("cpu", "nanoseconds")], ("cpu", "nanoseconds"), 10000000,
                      1700000000000000000, 2000000000)
    leaf = ("shop.pricing.digest", "/srv/shop/pricing.py", 10, 14)
    coupon = ("shop.faults.apply_coupon_rules", "/srv/shop/faults.py", 30, 33)
    handler = ("shop.app.checkout", "/srv/shop/app.py", 50, 55)
    b.add([leaf, coupon, handler], [7, 70000000], [("loadctl.name", "POST /api/checkout"), ("trace_id", "ab" * 16)])
    b.add([leaf, handler], [3, 30000000], [("loadctl.name", "POST /api/checkout")])
    b.add([("bg.reindex", "/srv/shop/bg.py", 5, 9)], [5, 50000000])
    return b.encode()


class Varint(unittest.TestCase):
    def test_values(self):
        self.assertEqual(proto.varint(0), b"\x00")
        self.assertEqual(proto.varint(127), b"\x7f")
        self.assertEqual(proto.varint(128), b"\x80\x01")
        self.assertEqual(proto.varint(300), b"\xac\x02")
        self.assertEqual(len(proto.varint(-1)), 10)  # int64 -1: ten bytes, as protobuf writes it
        for n in (1, 2 ** 31, 2 ** 63 - 1, 12345678901234):
            self.assertEqual(pbread.varint(proto.varint(n), 0), (n, len(proto.varint(n))))

    def test_zero_fields_omitted(self):
        self.assertEqual(proto.field_int(3, 0), b"")
        self.assertEqual(proto.packed(1, []), b"")


class RoundTrip(unittest.TestCase):
    def test_independent_reader(self):
        p = pbread.profile(sample_profile())
        self.assertEqual(p["strings"][0], "")
        self.assertEqual(p["sample_types"], [("samples", "count"), ("cpu", "nanoseconds")])
        self.assertEqual(p["period"], 10000000)
        self.assertEqual(p["duration_ns"], 2000000000)
        self.assertEqual(len(p["samples"]), 3)
        s0 = p["samples"][0]
        self.assertEqual(s0["stack"], ["shop.pricing.digest", "shop.faults.apply_coupon_rules", "shop.app.checkout"])
        self.assertEqual(s0["lines"], [14, 33, 55])
        self.assertEqual(s0["values"], [7, 70000000])
        self.assertEqual(s0["labels"], {"loadctl.name": "POST /api/checkout", "trace_id": "ab" * 16})
        self.assertEqual(p["samples"][2]["labels"], {})
        self.assertIn(("shop.faults.apply_coupon_rules", "/srv/shop/faults.py", 30), p["functions"].values())
        # one function per (name, file, start line), one location per (function, line)
        self.assertEqual(len(p["functions"]), 4)

    def test_gzip_deterministic(self):
        self.assertEqual(sample_profile(), sample_profile())
        self.assertEqual(sample_profile()[:2], b"\x1f\x8b")

    def test_non_ascii_names(self):
        b = proto.Builder([("samples", "count")], ("cpu", "nanoseconds"), 1, 0, 0)
        b.add([("mod.naïve_λ", "/srv/ü.py", 1, 2)], [1], [("loadctl.name", "GET /café")])
        p = pbread.profile(b.encode())
        self.assertEqual(p["samples"][0]["stack"], ["mod.naïve_λ"])
        self.assertEqual(p["samples"][0]["labels"]["loadctl.name"], "GET /café")


class ExternalDecoders(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="loadctl-agent-proto-")
        self.path = os.path.join(self.dir, "p.pb.gz")
        with open(self.path, "wb") as f:
            f.write(sample_profile())

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_loadctl_pprof_tool(self):
        tool = os.path.join(BUILD, "pprof_tool")
        if not (BUILD and os.access(tool, os.X_OK)):
            self.skipTest("SKIP: LOADCTL_BUILD/pprof_tool not built: loadctl's decoder not checked")
        out = subprocess.run([tool, "info", self.path], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("type cpu/nanoseconds", out.stdout)
        self.assertIn("total 150000000", out.stdout)
        self.assertIn("cum 70000000 shop.faults.apply_coupon_rules", out.stdout)
        self.assertIn("cum 100000000 shop.app.checkout", out.stdout)
        kept = os.path.join(self.dir, "f.pb.gz")
        out = subprocess.run([tool, "filter", self.path, "loadctl.name", "POST /api/checkout", kept],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("kept 2 samples", out.stdout)

    def test_go_tool_pprof(self):
        go = shutil.which("go")
        if not go:
            self.skipTest("SKIP: no go toolchain (Debian golang-go): `go tool pprof` not checked")
        env = dict(os.environ, HOME=os.environ.get("HOME", self.dir), GOFLAGS="", PPROF_TMPDIR=self.dir)
        out = subprocess.run([go, "tool", "pprof", "-top", "-nodecount=10", self.path], capture_output=True,
                             text=True, timeout=120, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Type: cpu", out.stdout)
        self.assertRegex(out.stdout, r"100ms\s+66\.67%\s+66\.67%\s+100ms\s+66\.67%\s+shop\.pricing\.digest")
        self.assertRegex(out.stdout, r"50ms\s+33\.33%.*bg\.reindex")


if __name__ == "__main__":
    unittest.main()
