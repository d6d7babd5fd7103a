"""proto.py - a gzipped pprof profile.proto written by hand: the message and field numbers of pprof's
published profile.proto (loadctl's copy: master/profile/profile.proto). Only what a profile of Python
stacks needs: sample types, samples with string labels, one mapping, locations with one line each,
functions with file names and first lines, the string table, time, duration and period.

Builder collects; encode() returns the gzipped bytes. Stacks are given leaf first, as profile.proto
wants them."""

import gzip

# Field numbers (profile.proto)
P_SAMPLE_TYPE, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION, P_STRING_TABLE = 1, 2, 3, 4, 5, 6
P_TIME_NANOS, P_DURATION_NANOS, P_PERIOD_TYPE, P_PERIOD, P_DEFAULT_SAMPLE_TYPE = 9, 10, 11, 12, 14
VT_TYPE, VT_UNIT = 1, 2
S_LOCATION_ID, S_VALUE, S_LABEL = 1, 2, 3
L_KEY, L_STR = 1, 2
M_ID, M_FILENAME, M_HAS_FUNCTIONS, M_HAS_FILENAMES, M_HAS_LINE_NUMBERS = 1, 5, 7, 8, 9
LOC_ID, LOC_MAPPING_ID, LOC_LINE = 1, 2, 4
LINE_FUNCTION_ID, LINE_LINE = 1, 2
F_ID, F_NAME, F_SYSTEM_NAME, F_FILENAME, F_START_LINE = 1, 2, 3, 4, 5
WIRE_VARINT, WIRE_BYTES = 0, 2
GZIP_LEVEL = 1  # the agent compresses while the app runs: speed over the last few percent of size


_SMALL = [bytes([i]) for i in range(0x80)]
_KEYS = {}


def varint(n):
    """Base-128 varint of an int; negative numbers as their 64-bit two's complement (int64 fields)."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(field, wire):
    k = _KEYS.get((field, wire))
    if k is None:
        k = _KEYS[(field, wire)] = varint((field << 3) | wire)
    return k


def field_int(field, n):
    """A varint field; proto3 omits zero."""
    return key(field, WIRE_VARINT) + varint(n) if n else b""


def field_bytes(field, data):
    return key(field, WIRE_BYTES) + varint(len(data)) + data


def packed(field, numbers):
    """A packed repeated varint field (what protoc writes for repeated int64/uint64 in proto3)."""
    if not numbers:
        return b""
    return field_bytes(field, b"".join(varint(n) for n in numbers))


_KEY_L_KEY, _KEY_L_STR = key(L_KEY, WIRE_VARINT), key(L_STR, WIRE_VARINT)
_KEY_S_LABEL, _KEY_S_VALUE = key(S_LABEL, WIRE_BYTES), key(S_VALUE, WIRE_BYTES)
_KEY_P_SAMPLE = key(P_SAMPLE, WIRE_BYTES)


class Builder:
    """One profile under construction. sample_types: [(type, unit)]; period_type: (type, unit)."""

    def __init__(self, sample_types, period_type, period, time_ns, duration_ns):
        self.strings = {"": 0}
        self.string_list = [""]
        self.functions = {}  # (name, file, start line) -> id
        self.locations = {}  # (function id, line) -> id
        self.samples = []  # encoded Sample fields
        self.stack_bytes = {}  # stack id -> encoded location ids
        self.label_bytes = {}  # labels tuple -> encoded Label fields
        self.pair_bytes = {}  # (key, value) -> encoded Label field
        self.sample_types = [(self.string(t), self.string(u)) for t, u in sample_types]
        self.period_type = (self.string(period_type[0]), self.string(period_type[1]))
        self.period, self.time_ns, self.duration_ns = period, time_ns, duration_ns
        self.mapping_file = self.string("python")

    def string(self, s):
        i = self.strings.get(s)
        if i is None:
            i = self.strings[s] = len(self.string_list)
            self.string_list.append(s)
        return i

    def location(self, frame):
        """The location id of a ((function, file, first line), line) frame."""
        fkey, line = frame
        fid = self.functions.get(fkey)
        if fid is None:
            fid = self.functions[fkey] = len(self.functions) + 1
            self.string(fkey[0])
            self.string(fkey[1])
        lkey = (fid, line)
        lid = self.locations.get(lkey)
        if lid is None:
            lid = self.locations[lkey] = len(self.locations) + 1
        return lid

    def label(self, pair):
        """The encoded Label field of one (key, value) pair."""
        b = self.pair_bytes.get(pair)
        if b is None:
            msg = _KEY_L_KEY + varint(self.string(pair[0])) + _KEY_L_STR + varint(self.string(pair[1]))
            b = self.pair_bytes[pair] = _KEY_S_LABEL + varint(len(msg)) + msg
        return b

    def add(self, stack, values, labels=()):
        """One sample: stack leaf first as (function, file, first line, line) tuples, one value per sample
        type, labels as (key, str value) pairs."""
        self.add_stack(None, [((f[0], f[1], f[2]), f[3]) for f in stack], values, tuple(tuple(p) for p in labels))

    def add_stack(self, stack_id, stack, values, labels=()):
        """One sample whose stack is ((function, file, first line), line) pairs, leaf first. Samples that
        share a stack_id (not None) or a labels tuple are encoded once and reused."""
        locs = self.stack_bytes.get(stack_id) if stack_id is not None else None
        if locs is None:
            locs = packed(S_LOCATION_ID, [self.location(f) for f in stack])
            if stack_id is not None:
                self.stack_bytes[stack_id] = locs
        lbl = self.label_bytes.get(labels)
        if lbl is None:
            get, parts = self.pair_bytes.get, []
            for pair in labels:
                b = get(pair)
                parts.append(b if b is not None else self.label(pair))
            lbl = self.label_bytes[labels] = b"".join(parts)
        vals = b"".join([varint(v) for v in values])
        msg = locs + _KEY_S_VALUE + varint(len(vals)) + vals + lbl
        self.samples.append(_KEY_P_SAMPLE + varint(len(msg)) + msg)

    def _body(self):
        out = [field_bytes(P_SAMPLE_TYPE, field_int(VT_TYPE, t) + field_int(VT_UNIT, u)) for t, u in self.sample_types]
        out += self.samples
        out.append(field_bytes(P_MAPPING, field_int(M_ID, 1) + field_int(M_FILENAME, self.mapping_file)
                               + field_int(M_HAS_FUNCTIONS, 1) + field_int(M_HAS_FILENAMES, 1)
                               + field_int(M_HAS_LINE_NUMBERS, 1)))
        for (fid, line), lid in self.locations.items():
            linemsg = field_int(LINE_FUNCTION_ID, fid) + field_int(LINE_LINE, line)
            out.append(field_bytes(P_LOCATION, field_int(LOC_ID, lid) + field_int(LOC_MAPPING_ID, 1)
                                   + field_bytes(LOC_LINE, linemsg)))
        for (name, filename, start_line), fid in self.functions.items():
            n, f = self.strings[name], self.strings[filename]
            out.append(field_bytes(P_FUNCTION, field_int(F_ID, fid) + field_int(F_NAME, n) + field_int(F_SYSTEM_NAME, n)
                                   + field_int(F_FILENAME, f) + field_int(F_START_LINE, start_line)))
        out += [field_bytes(P_STRING_TABLE, s.encode("utf-8", errors="replace")) for s in self.string_list]
        out.append(field_int(P_TIME_NANOS, self.time_ns))
        out.append(field_int(P_DURATION_NANOS, self.duration_ns))
        out.append(field_bytes(P_PERIOD_TYPE, field_int(VT_TYPE, self.period_type[0])
                               + field_int(VT_UNIT, self.period_type[1])))
        out.append(field_int(P_PERIOD, self.period))
        return b"".join(out)

    def encode(self):
        """The profile as gzipped profile.proto bytes."""
        return gzip.compress(self._body(), compresslevel=GZIP_LEVEL, mtime=0)


