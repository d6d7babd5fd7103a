"""pbread.py - a minimal protobuf reader for the tests: decodes the agent's profiles independently of the
encoder (wire format only), so a round trip checks the field numbers against profile.proto."""

import gzip


def varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def fields(buf):
    """{field number: [values]}: ints for varints, bytes for length-delimited."""
    out, i = {}, 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
        else:
            raise ValueError("unexpected wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


def packed(data):
    out, i = [], 0
    while i < len(data):
        v, i = varint(data, i)
        out.append(v)
    return out


def profile(gz):
    """Decode a gzipped profile into plain dicts: strings, sample_types, samples (stack of function names
    leaf first, values, labels dict), functions {id: (name, file, start line)}, period, duration."""
    p = fields(gzip.decompress(gz))
    strings = [s.decode() for s in p.get(6, [])]
    functions = {}
    for f in p.get(5, []):
        ff = fields(f)
        functions[ff[1][0]] = (strings[ff.get(2, [0])[0]], strings[ff.get(4, [0])[0]], ff.get(5, [0])[0])
    locations = {}
    for loc in p.get(4, []):
        lf = fields(loc)
        line = fields(lf[4][0])
        locations[lf[1][0]] = (line[1][0], line.get(2, [0])[0])
    samples = []
    for s in p.get(2, []):
        sf = fields(s)
        stack = [functions[locations[lid][0]][0] for lid in packed(sf.get(1, [b""])[0])]
        lines = [locations[lid][1] for lid in packed(sf.get(1, [b""])[0])]
        values = [v - (1 << 64) if v >= 1 << 63 else v for v in packed(sf.get(2, [b""])[0])]
        labels = {}
        for lb in sf.get(3, []):
            lf = fields(lb)
            labels[strings[lf[1][0]]] = strings[lf[2][0]]
        samples.append({"stack": stack, "lines": lines, "values": values, "labels": labels})
    types = []
    for vt in p.get(1, []):
        vf = fields(vt)
        types.append((strings[vf[1][0]], strings[vf[2][0]]))
    return {"strings": strings, "sample_types": types, "samples": samples, "functions": functions,
            "period": p.get(12, [0])[0], "duration_ns": p.get(10, [0])[0], "time_ns": p.get(9, [0])[0]}
