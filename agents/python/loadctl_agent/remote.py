"""remote.py - read another CPython process's threads and stacks from its memory, without its GIL: the
interpreter's thread list, each thread's frames (code object, function, instruction), and each code
object's function name, file, first line and line table, at the offsets layout.discover() found in that
process. Reads are preads of /proc/PID/mem: a read of memory the process freed or unmapped meanwhile fails
or returns stale bytes, never anything worse for either process, so every loop is bounded and every value
read is checked before it is followed (a stack read while it changes may come out wrong; the caller
treats a stack it cannot read as unknown for that tick).

Code objects are cached by address for CODE_TTL_S seconds: a code object freed and another allocated at
its address within that time would be named after the first (services create code objects at import,
rarely later)."""

import bisect
import struct
import time

from .labels import RAW
from .layout import Mem

MAX_THREADS = 4096
MAX_DEPTH = 128
CODE_CACHE_MAX = 50000
CODE_TTL_S = 60.0
STR_MAX = 4096  # characters of a name or file name read
HEADER_MAX = 16384  # characters of a request header read (labels.bounded() bounds it further)
TUPLE_MAX = 64  # items of a label tuple read
LOOKAHEAD = 192  # bytes read past a str's header at once (most names and headers fit: one read)
WINDOWS = (16384, 4096)  # bytes read at once below a thread's leaf frame (the second when the first fails)
TABLE_MAX = 1 << 20  # bytes of a line table read
SAME_FRAMES = 8  # frames in a row equal to the last walk's that make a stack the same (remote.walk)
_Q = struct.Struct("<Q")
PAGE = 4096  # thread states less than this apart are read as one range (threads())
RANGE_MAX = 16384  # bytes of one such range, or of the frames one peek range holds, at most


def _varint(t, i):
    b = t[i]
    i += 1
    val, shift = b & 63, 6
    while b & 64:
        b = t[i]
        i += 1
        val |= (b & 63) << shift
        shift += 6
    return val, i


def _svarint(t, i):
    v, i = _varint(t, i)
    return (-(v >> 1) if v & 1 else v >> 1), i


def line_table(table, firstlineno):
    """(starts, lines) of a CPython 3.11 location table (Objects/locations.md's format): code unit starts
    of each entry, sorted, and each entry's line (None: no line). Raises IndexError on a cut table."""
    starts, lines = [], []
    i, addr, line = 0, 0, firstlineno
    n = len(table)
    while i < n:
        b = table[i]
        i += 1
        code, length = (b >> 3) & 15, (b & 7) + 1
        if code == 15:
            ln = None
        elif code == 14:
            delta, i = _svarint(table, i)
            line += delta
            ln = line
            for _ in range(3):  # end line, column, end column
                _, i = _varint(table, i)
        elif code == 13:
            delta, i = _svarint(table, i)
            line += delta
            ln = line
        elif code >= 10:
            line += code - 10
            ln = line
            i += 2
        else:
            ln = line
            i += 1
        starts.append(addr)
        lines.append(ln)
        addr += length
    return starts, lines


def line_at(table, lasti, firstlineno):
    """The line of code unit lasti (f_lineno's answer): the first line for a frame not started yet."""
    if lasti < 0:
        return firstlineno
    starts, lines = table
    k = bisect.bisect_right(starts, lasti) - 1
    ln = lines[k] if k >= 0 else None
    return ln if ln is not None else -1


class Reader:
    """A process's threads and stacks at layout `lay` (layout.discover()'s dict)."""

    def __init__(self, pid, lay):
        self.mem = Mem(pid)
        self.lay = lay
        self.ts_len = max(lay["ts_next"], lay["ts_thread_id"], lay["ts_native_id"], lay["ts_frame"]) + 8
        self.if_len = max(lay["if_code"], lay["if_previous"], lay["if_func"], lay["if_instr"]) + 8
        self.co_len = max(lay["co_name"], lay["co_qualname"], lay["co_filename"], lay["co_linetable"],
                          lay["co_firstlineno"]) + 8
        self.codes = {}  # (code address, function address) -> (expiry, info, line table)
        self.modules = {}  # str address -> str (module names: few, long-lived)
        self.last_states = []  # thread state addresses of the last threads() call
        self.last_cframes = []  # their CFrame addresses then (3.11: a thread state's current frame is there)
        self.last_info, self.last_frames, self.last_head = [], [], 0  # their ts_struct fields and current frames
        offs = (lay["ts_next"], lay["ts_thread_id"], lay["ts_native_id"], lay["ts_frame"])
        at = sorted(set(offs))  # one struct reads the four fields, in the order of their offsets
        self.ts_struct = struct.Struct("<" + "".join("%dxQ" % (o - p) if o > p else "Q"
                                                     for p, o in zip([0] + [x + 8 for x in at[:-1]], at)))
        self.ts_fields = tuple(at.index(o) for o in offs)  # where next, thread id, native id, frame are in it
        fo = (lay["if_code"], lay["if_instr"], lay["if_func"], lay["if_previous"])
        at = sorted(set(fo))  # one struct reads a frame's code, instruction pointer, function and caller
        self.if_struct = struct.Struct("<" + "".join("%dxQ" % (o - p) if o > p else "Q"
                                                     for p, o in zip([0] + [x + 8 for x in at[:-1]], at)))
        self.if_fields = tuple(at.index(o) for o in fo)
        self.structs = {}  # peek_plan()'s structs by the offsets they read
        self.peeked = {}  # range address -> its bytes, read by the last threads() call (its peek)
        self.tuple_head = lay["tuple_items"] + 64  # bytes of a label tuple read at once (its items, mostly)
        self.ts_plan = ([], [])  # the ranges that hold last_states, and where each is in them (_ts_plan())

    def close(self):
        self.mem.close()

    def word(self, addr):
        b = self.mem.read(addr, 8)
        return _Q.unpack(b)[0] if b else 0

    def frame_of(self, ts):
        """The current interpreter frame of a thread state (0: none)."""
        lay = self.lay
        frame = self.word(ts + lay["ts_frame"])
        if lay["cframe_frame"] >= 0 and frame:
            frame = self.word(frame + lay["cframe_frame"])
        return frame

    def threads(self, peek=(), still=()):
        """[(thread id, native id, current interpreter frame address or 0, thread state address)] of every
        thread state; self.peeked: {address: bytes} of each (address, length) range of peek (the frame
        headers the caller expects to find current again: peek_plan()'s). still: the thread states of threads
        that have not run since the last call (their CPU time did not move), whose current frame cannot
        have changed: their CFrame's frame word is not read again. One system call reads, at once, the
        interpreter's list head, the thread states of the last call (those less than a page apart as one
        range: the kernel's cost is per range), the current-frame words the CFrames of the others held then,
        and the peeked ranges. The list is followed afresh when its head moved or a state's link moved (a
        thread started or ended); a new thread's state, or a CFrame that moved, is read in a second call."""
        lay, ts_len, cf, tsu = self.lay, self.ts_len, self.lay["cframe_frame"], self.ts_struct
        nx, tid, nid, fr = self.ts_fields
        last, cframes, old = self.last_states, self.last_cframes, self.last_info
        keep = set(still) if still and len(old) == len(last) else ()
        ranges, where = self.ts_plan
        guesses = [c for a, c in zip(last, cframes) if c and a not in keep] if cf >= 0 else []
        got = self.mem.read_many([(lay["interp"] + lay["interp_head"], 8)] + ranges + [(c + cf, 8) for c in guesses] +
                                 list(peek))
        nr, ng = len(ranges), len(guesses)
        head = _Q.unpack(got[0])[0] if got[0] else 0
        known, same, end = {}, head == self.last_head, tsu.size
        for a, (k, at), o in zip(last, where, old):  # each state's fields (ts_struct's) as read now
            blob = got[1 + k]
            if len(blob) < at + end:
                same = False
                continue
            info = known[a] = tsu.unpack_from(blob, at)
            if info[nx] != o[nx]:
                same = False
        guess = dict(zip(guesses, got[1 + nr:1 + nr + ng]))
        self.peeked = dict(zip([p[0] for p in peek], got[1 + nr + ng:]))
        if same:
            addrs, infos = last, [known[a] for a in last]
        else:  # the list changed: followed afresh
            ts, addrs, infos, seen = head, [], [], set()
            while ts and ts not in seen and len(addrs) < MAX_THREADS:
                seen.add(ts)
                info = known.get(ts)
                if info is None:
                    b = self.mem.read(ts, ts_len)
                    if not b:
                        break
                    info = tsu.unpack_from(b, 0)
                addrs.append(ts)
                infos.append(info)
                ts = info[nx]
            self.ts_plan = self._ts_plan(addrs)
        frames = [i[fr] for i in infos]
        if cf >= 0:
            prev = {a: (c, f) for a, c, f in zip(last, cframes, self.last_frames) if a in keep}
            out = []
            for a, c in zip(addrs, frames):  # c: the state's CFrame now
                p = prev.get(a)
                out.append(p[1] if p is not None and p[0] == c else -1 if c else 0)
            miss = [c for c, f in zip(frames, out) if f == -1 and not guess.get(c)]
            if miss:
                guess.update(zip(miss, self.mem.read_many([(c + cf, 8) for c in miss])))
            self.last_cframes = frames
            frames = [(_Q.unpack(guess[c])[0] if guess.get(c) else 0) if f == -1 else f for c, f in zip(frames, out)]
        self.last_head, self.last_states, self.last_info, self.last_frames = head, addrs, infos, frames
        return [(i[tid], i[nid], f, a) for a, i, f in zip(addrs, infos, frames)]

    def _ts_plan(self, addrs):
        """([(address, length)] of ranges that hold the thread states at addrs, those less than a page apart
        as one; [(range index, offset in it)] of each state)."""
        ranges, where = [], {}
        for a in sorted(set(addrs)):
            if ranges and a - (ranges[-1][0] + ranges[-1][1]) < PAGE and a + self.ts_len - ranges[-1][0] <= RANGE_MAX:
                ranges[-1][1] = a + self.ts_len - ranges[-1][0]
            else:
                ranges.append([a, self.ts_len])
            where[a] = (len(ranges) - 1, a - ranges[-1][0])
        return [tuple(r) for r in ranges], [where[a] for a in addrs]

    @staticmethod
    def peek_of(walk):
        """The frame addresses whose headers tell whether a thread whose last walk was `walk` (leaf first)
        is still in the same call: its leaf and the frames below it, SAME_FRAMES in all (as walk() decides
        where to stop)."""
        out = [walk[0][0]]
        for i in range(1, min(SAME_FRAMES, len(walk))):
            if walk[i][0] != walk[i - 1][4]:
                break
            out.append(walk[i][0])
        return out

    def peek_plan(self, walk):
        """What to read and expect to tell that a thread whose last walk was `walk` is still in the same call
        (same_leaf): [(address, length, struct, values)]: the frames of peek_of(walk), which sit next to each
        other in the thread's data stack, as few ranges as possible (a frame more than RANGE_MAX from the
        range's first starts another), each with one struct.Struct that unpacks the function, code, caller
        and instruction pointer of every frame in it, and the values the walk read there."""
        lay, n = self.lay, self.if_len
        fields = (lay["if_func"], lay["if_code"], lay["if_previous"], lay["if_instr"])
        by = {e[0]: e for e in walk[:SAME_FRAMES]}
        groups = []
        for f in sorted(self.peek_of(walk)):
            if groups and f + n - groups[-1][0] <= RANGE_MAX:
                groups[-1].append(f)
            else:
                groups.append([f])
        plan = []
        for g in groups:
            base, items = g[0], []
            for f in g:
                _a, code, func, lasti, prev = by[f]
                vals = (func, code, prev, code + lay["co_code"] + 2 * lasti)
                items += [(f - base + o, v) for o, v in zip(fields, vals)]
            items.sort()
            offs = tuple(o for o, _v in items)
            st = self.structs.get(offs)
            if st is None:  # a struct per set of offsets, made once (a thread's next calls have the same)
                fmt, pos = ["<"], 0
                for o in offs:
                    fmt.append("%dxQ" % (o - pos) if o > pos else "Q")
                    pos = o + 8
                if len(self.structs) >= CODE_CACHE_MAX:
                    self.structs.clear()
                st = self.structs[offs] = struct.Struct("".join(fmt))
            plan.append((base, g[-1] + n - base, st, tuple(v for _o, v in items)))
        return plan

    def same_leaf(self, plan):
        """Whether the frames of a peek_plan() (read by threads()' peek) are still as in the walk it was made
        from: the same call, at the same instruction, from the same callers, so the same stack (as walk()
        would find reading it)."""
        peeked = self.peeked
        for base, n, st, vals in plan:
            head = peeked.get(base)
            if not head or len(head) != n or st.unpack_from(head) != vals:
                return False
        return True

    def windows(self, frames):
        """{frame: (base address, bytes)} of the data stack below each leaf frame (as far as it is mapped, up to
        WINDOWS[0] bytes), read at once."""
        n = self.if_len
        got = self.mem.read_down_many([(f + n, WINDOWS[0]) for f in frames])
        return {f: w for f, w in zip(frames, got) if len(w[1]) >= n}

    def frames(self, frame, window=None):
        """Leaf-first [(code address, function address, instruction offset in code units)] from an
        interpreter frame, at most MAX_DEPTH; frames not started yet (offset < 0) above the leaf are left
        out, as sys._current_frames() leaves them out of f_back. A thread's frames sit in its data stack,
        callers below callees: one read of up to WINDOW bytes below the leaf holds most of a stack (a
        smaller one when that memory is not all mapped; frames outside it are read one by one)."""
        lay, out = self.lay, []
        seen = set()
        read, n = self.mem.read, self.if_len
        code_off, prev_off, func_off, instr_off, co_code = (lay["if_code"], lay["if_previous"], lay["if_func"],
                                                            lay["if_instr"], lay["co_code"])
        if window is not None:
            base, buf = window
        else:
            for size in WINDOWS:
                buf = read(frame + n - size, size)
                if buf:
                    break
            base = frame + n - len(buf)
        top = base + len(buf)
        unpack = _Q.unpack_from
        while frame and frame not in seen and len(out) < MAX_DEPTH:
            seen.add(frame)
            if base <= frame and frame + n <= top:
                b, at = buf, frame - base
            else:
                b, at = read(frame, n), 0
                if not b:
                    break
            code = unpack(b, at + code_off)[0]
            lasti = (unpack(b, at + instr_off)[0] - code - co_code) // 2
            if lasti >= 0 or not out:
                out.append((code, unpack(b, at + func_off)[0], lasti))
            frame = unpack(b, at + prev_off)[0]
        return out

    def walk(self, frame, window, last):
        """The frames of a stack down to the first one the thread's previous walk also had: leaf-first
        [(frame address, code, function, offset, caller's address)] of the frames read, and the index in
        that walk of the frame where it stopped (None: read to the root). last maps a frame address to
        (index, entry) of the previous walk; a frame is the same when its address, code, function, offset
        and caller all are, and so are those of the SAME_FRAMES - 1 frames below it (or down to the last
        walk's deepest): it is still in the call it was in, so the frames below are too. One equal frame
        is not enough: two functions whose frames have the same size calling the same helper at the same
        place put it at the same address, with the same caller address (SAME_FRAMES frames in a row, each
        replaced in between by one equal in all five, would be taken for them). Frames not started yet
        above the leaf are left out, as in frames(); leaving the windows read so far, the WINDOWS[0] bytes
        below the frame are read (as far as they are mapped)."""
        out, n, co_code, unpack = [], self.if_len, self.lay["co_code"], self.if_struct.unpack_from
        ci, ii, fi, pi = self.if_fields
        base, buf = window if window is not None else (0, b"")
        top = base + len(buf)
        held = [(base, top, buf)] if buf else []  # the windows read in this walk (a generator's frame lies
        depth, run = 0, []  # outside its caller's data stack: its caller's window is used again after it)
        # run: the frames just read that equal the last walk's, in a row
        while frame and depth < MAX_DEPTH:
            depth += 1
            if not (base <= frame and frame + n <= top):
                for base, top, buf in held:
                    if base <= frame and frame + n <= top:
                        break
                else:
                    base, buf = self.mem.read_down_many([(frame + n, WINDOWS[0])])[0]
                    if len(buf) < n:
                        base, buf = frame, self.mem.read(frame, n)
                        if not buf:
                            break
                    top = base + len(buf)
                    held.append((base, top, buf))
            f = unpack(buf, frame - base)
            code = f[ci]
            lasti = (f[ii] - code - co_code) // 2
            entry = (frame, code, f[fi], lasti, f[pi])
            hit = last.get(frame)
            if hit is not None and hit[1] == entry and (not run or hit[0] == run[-1][0] + 1):
                run.append((hit[0], entry))
                if len(run) == SAME_FRAMES or not entry[4] or hit[0] + 1 >= len(last):
                    return out, run[0][0]
            else:
                for _i, e in run:  # equal frames, but not SAME_FRAMES in a row: read as new
                    if e[3] >= 0 or not out:
                        out.append(e)
                run = [(hit[0], entry)] if hit is not None and hit[1] == entry else []
                if not run and (lasti >= 0 or not out):
                    out.append(entry)
            frame = entry[4]
        for _i, e in run:
            out.append(e)
        return out, None

    def string(self, addr, limit=STR_MAX, head=None):
        """The str at addr, or None when it cannot be read as one (head: bytes already read there)."""
        lay = self.lay
        if not head or len(head) < lay["str_compact_data"]:
            head = (self.mem.read(addr, lay["str_compact_data"] + LOOKAHEAD) or
                    self.mem.read(addr, lay["str_compact_data"]))
        if not head or _Q.unpack_from(head, lay["ob_type"])[0] != lay["type_str"]:
            return None
        n = _Q.unpack_from(head, lay["str_len"])[0]
        state = struct.unpack_from("<I", head, lay["str_state"])[0]
        if n > limit:
            return None
        if state >> lay["str_ascii_bit"] & 1:
            at, enc, size = lay["str_ascii_data"], "ascii", n
        else:
            kind = (state >> lay["str_kind_shift"]) & 7
            enc = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}.get(kind)
            if enc is None:
                return None
            at, size = lay["str_compact_data"], n * kind
        b = head[at:at + size] if at + size <= len(head) else self.mem.read(addr + at, size)
        return b.decode(enc, "replace") if len(b) == size else None

    def bytes_at(self, addr, limit=TABLE_MAX, head=None):
        lay = self.lay
        if not head or len(head) < lay["bytes_data"]:
            head = self.mem.read(addr, lay["bytes_data"])
        if not head or _Q.unpack_from(head, lay["ob_type"])[0] != lay["type_bytes"]:
            return None
        n = _Q.unpack_from(head, lay["bytes_len"])[0]
        if n > limit:
            return None
        at = lay["bytes_data"]
        b = head[at:at + n] if at + n <= len(head) else self.mem.read(addr + at, n)
        return b if len(b) == n else None

    def module(self, func):
        """The module name of a function object (its __module__), None when it has none, False when func is
        not (or no longer) a function object."""
        lay = self.lay
        b = self.mem.read(func, max(lay["func_module"], lay["ob_type"]) + 8) if func else b""
        if not b or _Q.unpack_from(b, lay["ob_type"])[0] != lay["type_function"]:
            return False
        addr = _Q.unpack_from(b, lay["func_module"])[0]
        if not addr:
            return None
        name = self.modules.get(addr)
        if name is None:
            name = self.string(addr)
            if name is not None:
                if len(self.modules) >= CODE_CACHE_MAX:
                    self.modules.clear()
                self.modules[addr] = name
        return name

    def code(self, code, func, now=None):
        """((function, file, first line), line table) of a code object run by function func; None when it
        cannot be read. function is "module.qualname" as the in-process sampler names it."""
        key = (code, func)
        hit = self.codes.get(key)
        now = time.monotonic() if now is None else now
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        lay = self.lay
        b = self.mem.read(code, max(self.co_len, lay["ob_type"] + 8))
        if not b or _Q.unpack_from(b, lay["ob_type"])[0] != lay["type_code"]:  # not (or no longer) a code object
            return None
        qual = self.string(_Q.unpack_from(b, lay["co_qualname"])[0]) or self.string(_Q.unpack_from(b, lay["co_name"])[0])
        filename = self.string(_Q.unpack_from(b, lay["co_filename"])[0])
        first = struct.unpack_from("<i", b, lay["co_firstlineno"])[0]
        raw = self.bytes_at(_Q.unpack_from(b, lay["co_linetable"])[0])
        if qual is None or filename is None or raw is None:
            return None
        try:
            table = line_table(raw, first)
        except IndexError:
            return None
        module = self.module(func)
        if module is False:  # a frame read as it was popped: unreadable this time
            return None
        info = ("%s.%s" % (module, qual) if module else qual, filename, first)
        if len(self.codes) >= CODE_CACHE_MAX:
            self.codes.clear()
        self.codes[key] = (now + CODE_TTL_S, info, table)
        return info, table

    def stack(self, frame):
        """Leaf-first [((function, file, first line), line)] of the stack from an interpreter frame; None
        when a frame's code cannot be read."""
        out = []
        now = time.monotonic()
        for code, func, lasti in self.frames(frame):
            c = self.code(code, func, now)
            if c is None:
                return None
            info, table = c
            out.append((info, line_at(table, lasti, info[2])))
        return out

    def _items(self, addr, limit, head=None):
        """The item addresses of the tuple at addr, or None (head: bytes already read there)."""
        lay = self.lay
        at = lay["tuple_items"]
        if not head or len(head) < at:
            head = self.mem.read(addr, at + 64) or self.mem.read(addr, at)
        if not head or _Q.unpack_from(head, lay["ob_type"])[0] != lay["type_tuple"]:
            return None
        n = _Q.unpack_from(head, lay["tuple_len"])[0]
        if n > limit:
            return None
        b = head[at:at + 8 * n] if at + 8 * n <= len(head) else self.mem.read(addr + at, 8 * n)
        return struct.unpack("<%dQ" % n, b) if len(b) == 8 * n else None

    def _header(self, addr, head=None):
        """A header value of a label tuple: None, a str or bytes; False when unreadable."""
        if addr == self.lay["none"]:
            return None
        v = self.string(addr, HEADER_MAX, head)
        if v is None:
            v = self.bytes_at(addr, HEADER_MAX, head)
        return False if v is None else v

    def labels(self, addr):
        """The label tuple at addr as the in-process table holds it ((RAW, traceparent, baggage, pairs...)
        or (key, value) pairs, RAW being this process's marker), or None when it cannot be read."""
        return self.labels_many([addr])[0]

    def labels_many(self, addrs, known=None):
        """labels() of each address, the objects read level by level, each level in one system call: the
        tuples (but those whose TUPLE_HEAD bytes known holds, read by the caller), then their items (header
        strings, pair tuples), then the pairs' strings."""
        lay = self.lay
        skip = (lay["none"], lay["raw"])
        known = known or {}
        todo = [a for a in addrs if a not in known]
        got = dict(zip(todo, self.mem.read_many([(a, self.tuple_head) for a in todo]))) if todo else {}
        heads = [known.get(a) or got.get(a) for a in addrs]
        items = [self._items(a, TUPLE_MAX, h) for a, h in zip(addrs, heads)]
        size = max(lay["str_compact_data"], lay["tuple_items"], lay["bytes_data"]) + LOOKAHEAD
        want = sorted({p for it in items if it for p in it if p not in skip})
        got = dict(zip(want, self.mem.read_many([(p, size) for p in want])))
        pairs = {}
        for p in want:
            b = got[p]
            if b and _Q.unpack_from(b, lay["ob_type"])[0] == lay["type_tuple"]:
                pairs[p] = self._items(p, 2, b)
        more = sorted({q for pr in pairs.values() if pr for q in pr} - got.keys())
        got.update(zip(more, self.mem.read_many([(q, size) for q in more])))
        out = []
        for it in items:
            out.append(None if it is None else self._build(it, got, pairs, RAW))
        return out

    def _build(self, items, got, pairs, raw):
        out, rest = [], items
        if items and items[0] == self.lay["raw"]:
            if len(items) < 3:
                return None
            tp, bg = self._header(items[1], got.get(items[1])), self._header(items[2], got.get(items[2]))
            if tp is False or bg is False:
                return None
            out, rest = [raw, tp, bg], items[3:]
        for p in rest:
            pair = pairs.get(p) or self._items(p, 2)
            if pair is None or len(pair) != 2:
                return None
            k = self.string(pair[0], HEADER_MAX, got.get(pair[0]))
            v = self.string(pair[1], HEADER_MAX, got.get(pair[1]))
            if k is None or v is None:
                return None
            out.append((k, v))
        return tuple(out)
