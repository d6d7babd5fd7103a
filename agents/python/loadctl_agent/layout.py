"""layout.py - where CPython keeps what an outside reader needs, found at start in the app's own process from
live objects (no table of offsets copied from anywhere): the interpreter's thread list, each thread state's
next pointer, ids and current frame, an interpreter frame's code object, function, caller and instruction
pointer, a code object's names, first line and line table, a function's module name, and how str and bytes
objects hold their contents.

Method: objects whose addresses (id()) and values the process knows are scanned for those known addresses
and values, reading memory through /proc/self/mem (a read of an unmapped address fails with EIO; it never
faults). Threads parked at a known place (two, one of them a few calls deeper) give the thread states and
frames; fields found on one are checked on the other. What cannot be found, or is ambiguous, raises
LayoutError: the caller then keeps the in-process sampler. The result is a dict of ints (JSON) for the
external sampler (extsampler.py), which checks it once more by walking the parked threads' stacks
(verify_stacks) before it is trusted."""

import array
import ctypes
import errno
import os
import struct
import sys
import threading

from . import context

SUPPORTED = ((3, 11),)  # the versions whose frame layout (interpreter frames linked by `previous`, reached
# through the thread state's cframe) this reader follows and its tests have run on
SCAN = 512  # bytes of a thread state, frame or code object searched for a field


class LayoutError(Exception):
    pass


def _vm_readv():
    try:
        f = ctypes.CDLL(None, use_errno=True).process_vm_readv
    except (OSError, AttributeError):
        return None
    f.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    f.restype = ctypes.c_ssize_t
    return f


IOV_MAX = 1024
PAGE = 4096
ADDR_MAX = (1 << 63) - 1  # above: not an address (a word read while it changed)
VM_BUF = 1 << 20  # bytes read_many() reads in one system call at most (a request over it: one pread)


class Mem:
    """Reads of a process's memory through /proc/PID/mem (plain preads); read_many() reads several places
    in one system call (process_vm_readv) where the kernel allows it, else one pread each. The system call's
    buffer and its iovec arrays are made once (a ctypes object made per call costs more than the call)."""

    def __init__(self, pid):
        self.fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY | os.O_CLOEXEC)
        self.pid = pid
        self.vm = _vm_readv()
        self.buf = ctypes.create_string_buffer(VM_BUF)
        self.buf_addr = ctypes.addressof(self.buf)
        self.local = array.array("Q", [self.buf_addr, 0])
        self.remote = array.array("Q", bytes(16 * IOV_MAX))

    def read_many(self, reqs):
        """[bytes, or b"" where unreadable] for [(address, length)]."""
        out = [b""] * len(reqs)
        todo = [(i, a, n) for i, (a, n) in enumerate(reqs) if a > 0 and 0 < n <= VM_BUF]
        big = [(i, a, n) for i, (a, n) in enumerate(reqs) if a > 0 and n > VM_BUF]
        while todo and self.vm is not None:
            todo = self._vm_chunk(todo, out)
        for i, a, n in todo + big:
            out[i] = self.read(a, n)
        return out

    def _vm_chunk(self, todo, out):
        """One process_vm_readv of the first places of todo (as many as the buffer holds) into out; the places
        left (all of them when the call is not allowed here, after which self.vm is None)."""
        remote, total, k = self.remote, 0, 0
        for _i, a, n in todo:
            if k == IOV_MAX or total + n > VM_BUF:
                break
            remote[2 * k], remote[2 * k + 1] = a, n
            total += n
            k += 1
        self.local[1] = total
        got = self.vm(self.pid, self.local.buffer_info()[0], 1, remote.buffer_info()[0], k, 0)
        if got < 0 and ctypes.get_errno() == errno.EFAULT:  # the first place is not mapped: skip it only
            got = 0
        elif got < 0:  # not allowed here (seccomp, an old kernel): preads from now on
            self.vm = None
            return todo
        raw, pos, done = ctypes.string_at(self.buf_addr, got) if got > 0 else b"", 0, 0
        for i, _a, n in todo[:k]:  # whole iovecs only: the first that failed ends the transfer
            if pos + n > got:
                break
            out[i] = raw[pos:pos + n]
            pos += n
            done += 1
        return todo[done + 1:] if done < k else todo[done:]

    def read_down_many(self, reqs):
        """[(base, bytes)] for [(end, size)]: of the size bytes below end, the part that is mapped, from end
        down to the first page that is not (b"" when none is). One system call reads them all: each range's
        pages are iovecs from its highest down, so a transfer stops where a range reaches unmapped memory,
        and the next call goes on with the next range (a thread's frames sit in stack chunks of their own
        mappings: the bytes below the first frame of a chunk are often not mapped)."""
        out = [(end, b"") for end, _size in reqs]
        reqs = [(e, n) if 0 < e <= ADDR_MAX and n > 0 else (0, 0) for e, n in reqs]  # a word read as it changed
        if self.vm is None:
            for i, (end, size) in enumerate(reqs):
                for n in (size, PAGE, end - (end - 1) // PAGE * PAGE):
                    b = self.read(end - n, n) if n <= size else b""
                    if b:
                        out[i] = (end - n, b)
                        break
            return out
        todo = []  # (request index, address, length): each request's pages, highest first
        for i, (end, size) in enumerate(reqs):
            low, top = max(1, end - size), end
            while top > low:
                a = max(low, (top - 1) // PAGE * PAGE)
                todo.append((i, a, top - a))
                top = a
        remote, local = self.remote, self.local
        while todo:
            total, k = 0, 0
            for _i, a, n in todo:
                if k == IOV_MAX or total + n > VM_BUF:
                    break
                remote[2 * k], remote[2 * k + 1] = a, n
                total += n
                k += 1
            local[1] = total
            got = self.vm(self.pid, local.buffer_info()[0], 1, remote.buffer_info()[0], k, 0)
            if got < 0 and ctypes.get_errno() != errno.EFAULT:  # not allowed here: preads from now on
                self.vm = None
                return self.read_down_many(reqs)
            raw, pos, done, parts = ctypes.string_at(self.buf_addr, got) if got > 0 else b"", 0, 0, {}
            for i, a, n in todo[:k]:
                if pos + n > got:
                    break
                parts.setdefault(i, []).append(raw[pos:pos + n])
                pos += n
                done += 1
            for i, ps in parts.items():
                b = b"".join(reversed(ps))
                base, old = out[i][0] - len(b), out[i][1]
                out[i] = (base, b + old)
            if done < k:  # todo[done] is not mapped: the rest of its range is not read
                stop = todo[done][0]
                done += 1
                while done < len(todo) and todo[done][0] == stop:
                    done += 1
            todo = todo[done:]
        return out

    def read(self, addr, n):
        """n bytes at addr, or b"" when any of them cannot be read."""
        if addr <= 0:
            return b""
        try:
            b = os.pread(self.fd, n, addr)
        except (OSError, OverflowError, ValueError):
            return b""
        return b if len(b) == n else b""

    def close(self):
        os.close(self.fd)


def words(b):
    return struct.unpack("<%dQ" % (len(b) // 8), b[: len(b) // 8 * 8])


def offsets_of(mem, addr, value, n=SCAN):
    """Byte offsets (8-aligned) within n bytes at addr whose 64-bit word equals value."""
    return [i * 8 for i, w in enumerate(words(mem.read(addr, n))) if w == value]


def _one(cands, what):
    if len(cands) != 1:
        raise LayoutError("%s: %d candidate offsets %s" % (what, len(cands), sorted(cands)[:6]))
    return next(iter(cands))


def _common(lists, what):
    s = None
    for lst in lists:
        s = set(lst) if s is None else s & set(lst)
    return _one(s or set(), what)


def _parked(ev, depth):
    """A thread parked in a known place, `depth` calls of this function deep (one of them from C: map)."""
    if depth == 2:
        return next(map(_parked, [ev], [depth - 1]))
    if depth:
        return _parked(ev, depth - 1)
    ev.wait()
    return depth


class Parked:
    """Two threads parked at known stacks (depths 0 and 3) until release()."""

    def __init__(self):
        self.ev = threading.Event()
        self.ready = []
        self.threads = [threading.Thread(target=_parked, args=(self.ev, d), name="loadctl-agent-layout-%d" % d,
                                         daemon=True) for d in (0, 3)]
        for t in self.threads:
            t.start()
            context.AGENT_THREADS.add(t.ident)  # not in the app's profiles meanwhile

    def frames(self):
        """{ident: leaf frame} of the parked threads once both wait inside Event.wait."""
        for _ in range(2000):
            cur = sys._current_frames()  # noqa: SLF001
            out = {t.ident: cur.get(t.ident) for t in self.threads}
            if all(f is not None and _in_wait(f) for f in out.values()):
                return out
            threading.Event().wait(0.002)
        raise LayoutError("parked threads did not park")

    def release(self):
        self.ev.set()
        for t in self.threads:
            t.join(timeout=2)
            context.AGENT_THREADS.discard(t.ident)


def _in_wait(f):
    while f is not None:
        if f.f_code is _parked.__code__:
            return True
        f = f.f_back
    return False


def _string_layout(mem):
    """Offsets of a str's length, its state bits (kind, ascii) and its data (ASCII-compact and compact)."""
    samples = {"a": "".join(["loadctl_agent", "_ascii_probe_", "xyz"]),
               1: "".join(["loadctl\xe9", "_probe_latin1"]),
               2: "".join(["loadctl\u0101", "_probe_ucs2"]),
               4: "".join(["loadctl\U0001f600", "_probe_ucs4"])}
    enc = {"a": "ascii", 1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}
    heads, data = {}, {}
    for k, s in samples.items():
        raw = mem.read(id(s), sys.getsizeof(s))
        pos = raw.find(s.encode(enc[k]))
        if pos < 0:
            raise LayoutError("str data not found")
        data[k] = pos
        heads[k] = raw
    if not (data[1] == data[2] == data[4]):
        raise LayoutError("compact str data offsets differ")
    s = samples["a"]
    len_off = _common([offsets_of(mem, id(x), len(x), data["a"]) for x in samples.values()], "str length")
    for off in range(len_off + 8, data["a"], 4):
        st = {k: struct.unpack_from("<I", heads[k], off)[0] for k in samples}
        for shift in range(0, 24):
            if all((st[k] >> shift) & 7 == k for k in (1, 2, 4)) and (st["a"] >> shift) & 7 == 1:
                for bit in range(0, 32):
                    if st["a"] >> bit & 1 and not any(st[k] >> bit & 1 for k in (1, 2, 4)):
                        return {"str_len": len_off, "str_state": off, "str_kind_shift": shift, "str_ascii_bit": bit,
                                "str_ascii_data": data["a"], "str_compact_data": data[1]}
    raise LayoutError("str state bits not found")


def _bytes_layout(mem):
    b = bytes(range(200, 256)) + b"loadctl_agent_bytes_probe"
    raw = mem.read(id(b), sys.getsizeof(b))
    pos = raw.find(b)
    return {"bytes_len": _one(set(offsets_of(mem, id(b), len(b), pos)), "bytes length"), "bytes_data": pos}


def _tuple_layout(mem):
    """A tuple's length and items, every object's type pointer, and the addresses of what label tuples
    hold (None, the RAW marker, the str, bytes and tuple types)."""
    from .labels import RAW
    t = tuple(["loadctl", b"agent", None, RAW, ("k", "v")])
    return {"ob_type": _one(set(offsets_of(mem, id(t), id(tuple), 64)) & set(offsets_of(mem, id(t[0]), id(str), 64)),
                            "object type"),
            "tuple_len": _one(set(offsets_of(mem, id(t), len(t), 64)), "tuple length"),
            "tuple_items": _one(set(offsets_of(mem, id(t), id(t[0]), 64)), "tuple items"),
            "none": id(None), "raw": id(RAW), "type_str": id(str), "type_bytes": id(bytes), "type_tuple": id(tuple),
            "type_code": id(type(_tuple_layout.__code__)), "type_function": id(type(_tuple_layout))}


def _code_layout(mem, codes):
    """Offsets in a code object of co_name, co_qualname, co_filename, co_linetable, co_firstlineno (int)."""
    out = {}
    for field in ("co_name", "co_qualname", "co_filename", "co_linetable"):
        out[field] = _common([offsets_of(mem, id(c), id(getattr(c, field))) for c in codes], field)
    lines = []
    for c in codes:
        raw = mem.read(id(c), SCAN)
        lines.append([i for i in range(0, len(raw) - 3, 4) if struct.unpack_from("<i", raw, i)[0] == c.co_firstlineno])
    out["co_firstlineno"] = _common(lines, "co_firstlineno")
    return out


def discover():
    """The layout dict of this process's interpreter; LayoutError when it cannot be found or is not unique."""
    if sys.version_info[:2] not in SUPPORTED:
        raise LayoutError("CPython %d.%d is not supported (only %s)" % (sys.version_info[:2] + (SUPPORTED,)))
    if sys.implementation.name != "cpython" or ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
        raise LayoutError("needs 64-bit little-endian CPython")
    api = ctypes.pythonapi
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    mem = Mem(os.getpid())
    parked = Parked()
    try:
        leaves = parked.frames()
        interp = api.PyInterpreterState_Get()
        states = []
        ts = api.PyInterpreterState_ThreadHead(interp)
        while ts and len(states) < 10000:
            states.append(ts)
            ts = api.PyThreadState_Next(ts)
        if len(states) < 3:
            raise LayoutError("thread list too short")
        lay = {"interp": interp, "python": "%d.%d" % sys.version_info[:2]}
        lay["interp_head"] = _one(set(offsets_of(mem, interp, states[0], 4096)), "interpreter's thread head")
        lay["ts_next"] = _common([offsets_of(mem, a, b) for a, b in zip(states, states[1:])], "thread state next")
        by_ident = {}
        for t in parked.threads:
            cands = [ts for ts in states if offsets_of(mem, ts, t.ident)]
            by_ident[t.ident] = _one(set(cands), "thread state of a parked thread")
        lay["ts_thread_id"] = _common([offsets_of(mem, by_ident[t.ident], t.ident) for t in parked.threads],
                                      "thread id")
        lay["ts_native_id"] = _common([offsets_of(mem, by_ident[t.ident], t.native_id) for t in parked.threads],
                                      "native thread id")
        # an interpreter frame: the one a frame object points at, holding its code and the frame object itself
        fr = {}
        for ident, leaf in leaves.items():
            f = leaf
            while f is not None:
                fr[id(f)] = f
                f = f.f_back
        f_frame = []
        for f in fr.values():
            cands = []
            for off, w in enumerate(words(mem.read(id(f), 64))):
                if offsets_of(mem, w, id(f.f_code), 128) and offsets_of(mem, w, id(f), 128):
                    cands.append(off * 8)
            f_frame.append(cands)
        fo_iframe = _common(f_frame, "frame object's interpreter frame")

        def iframe(f):
            return words(mem.read(id(f) + fo_iframe, 8))[0]

        lay["if_code"] = _common([offsets_of(mem, iframe(f), id(f.f_code), 128) for f in fr.values()], "frame code")
        lay["if_previous"] = _common([offsets_of(mem, iframe(f), iframe(f.f_back), 128) for f in fr.values()
                                      if f.f_back is not None], "frame previous")
        funcs = [(f, _parked) for f in fr.values() if f.f_code is _parked.__code__]
        lay["if_func"] = _common([offsets_of(mem, iframe(f), id(fn), 128) for f, fn in funcs], "frame function")
        lay["func_module"] = _one(set(offsets_of(mem, id(_parked), id(_parked.__module__), 256)), "function module")
        instr = []
        for f in fr.values():
            base = id(f.f_code)
            ws = words(mem.read(iframe(f), 128))
            instr.append([(i * 8, w - base - f.f_lasti) for i, w in enumerate(ws)
                          if base < w < base + sys.getsizeof(f.f_code)])
        pair = _common(instr, "frame instruction pointer")
        lay["if_instr"], lay["co_code"] = pair
        # the thread state's current frame: through one pointer (the C frame) or held directly
        paths = []
        for t in parked.threads:
            ts, leaf = by_ident[t.ident], iframe(leaves[t.ident])
            cands = [(i * 8, -1) for i, w in enumerate(words(mem.read(ts, SCAN))) if w == leaf]
            for i, w in enumerate(words(mem.read(ts, SCAN))):
                if 0 < w - leaf < 65536:  # the frame stack above the leaf: what frames that returned left there
                    continue  # (a returned callee's frame still names the leaf as its caller)
                cands += [(i * 8, j * 8) for j, w2 in enumerate(words(mem.read(w, 64))) if w2 == leaf]
            paths.append(cands)
        lay["ts_frame"], lay["cframe_frame"] = _common(paths, "thread state's current frame")
        codes = [f.f_code for f in fr.values()] + [discover.__code__, Mem.read.__code__]
        lay.update(_code_layout(mem, codes))
        lay.update(_string_layout(mem))
        lay.update(_bytes_layout(mem))
        lay.update(_tuple_layout(mem))
        return lay, parked, leaves
    except LayoutError:
        parked.release()
        raise
    finally:
        mem.close()
