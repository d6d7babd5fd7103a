"""slots.py - which request each thread serves, in shared memory, for the external sampler.

A memfd the app process writes and the sampler process maps read-only: a header (magic, records in use)
and NSLOTS records of 16 bytes, one per thread that ever served a request or runs the agent:

    u32 generation   odd while the record is being written (a seqlock: the reader reads the generation,
                     the record, what it points to, and the generation again, and keeps what it read only
                     when both are the same even number: a torn read is detected, never used)
    u32 native thread id
    u64 what the thread runs: 0 nothing, 1 the agent, else the address of the label tuple of the request
                     it serves (the tuple ACTIVE holds, see context.py)

The app writes an address (three stores, nothing encoded or parsed); the sampler process reads the tuple
and its strings from the app's memory (remote.Reader.labels) and parses them there (labels.resolve). The
tuple is alive while the record still has the generation the reader saw first: the app drops it only
after writing the record again. Only a thread writes its own record, except the agent marking its own
threads, so writers do not race. A thread's record is found by its ident (a dict); records of threads
that ended are reused when all are taken."""

import mmap
import os
import struct
import threading

MAGIC = 0x4C43544C  # "LTCL"
NSLOTS = 1024
SLOT = 16
HEADER = 16
IDLE, AGENT = 0, 1  # record values that are not addresses
SIZE = HEADER + NSLOTS * SLOT
_GEN = struct.Struct("<I")
_REC = struct.Struct("<IIQ")


class Writer:
    """The app side: one record per thread."""

    def __init__(self):
        self.fd = os.memfd_create("loadctl-agent-labels", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, SIZE)
        self.mm = mmap.mmap(self.fd, SIZE)
        self.mm[0:8] = struct.pack("<II", MAGIC, 0)
        self.gens = memoryview(self.mm).cast("I")  # item stores: what a record's write is made of (a C store
        self.addrs = memoryview(self.mm).cast("Q")  # each, in program order; x86-64 keeps stores in order)
        self.of = {}  # thread ident -> [index of its generation in gens, index of its value in addrs, generation,
        # native tid]
        self.owner = {}  # record offset -> thread ident
        self.used = 0
        self.lock = threading.Lock()

    def claim(self, ident):
        """The record of thread ident (its own again when that ident ran another thread before: idents are
        reused once a thread ends; a new one; or one of a thread that ended), or None."""
        thread = threading._active.get(ident)  # noqa: SLF001 - ident -> native id for a thread not the caller
        native = threading.get_native_id() if ident == threading.get_ident() else getattr(thread, "native_id", 0)
        if not native:
            return None
        with self.lock:
            old = self.of.get(ident)
            if old is not None:
                off = old[0] * 4
            elif self.used < NSLOTS:
                off = HEADER + self.used * SLOT
                self.used += 1
            else:  # all taken: a record of a thread that ended
                live = threading._active  # noqa: SLF001
                off = next((o for o, i in self.owner.items() if i not in live), None)
                if off is None:
                    return None
                self.of.pop(self.owner[off], None)
            self.owner[off] = ident
            s = [off // 4, off // 8 + 1, (self.gens[off // 4] + 1) & ~1, native]
            self.gens[s[0]] = s[2] + 1
            self.gens[s[0] + 1] = native
            self.addrs[s[1]] = IDLE
            self.gens[s[0]] = s[2] = s[2] + 2
            self.of[ident] = s
            self.gens[1] = self.used
        return s

    def put(self, ident, labels, value=None):
        """Record that thread `ident` now serves the request of the label tuple `labels` (() : none), or
        (value=AGENT) is the agent's. The caller keeps `labels` alive until the thread's next put()."""
        s = self.of.get(ident)
        if s is None or (ident == threading.get_ident() and s[3] != threading.get_native_id()):
            s = self.claim(ident)
        if s is not None:
            g = s[2] + 2
            self.gens[s[0]] = g - 1
            self.addrs[s[1]] = value if value is not None else id(labels) if labels else IDLE
            self.gens[s[0]] = s[2] = g

    def close(self):
        self.gens.release()
        self.addrs.release()
        self.mm.close()
        os.close(self.fd)


class Reader:
    """The sampler side: the records of a memfd (a file descriptor passed to the sampler process);
    `labels_many(addresses)` reads label tuples at addresses of the app's memory (remote.Reader's)."""

    def __init__(self, fd, labels_many):
        self.mm = mmap.mmap(fd, SIZE, prot=mmap.PROT_READ)
        if _GEN.unpack_from(self.mm, 0)[0] != MAGIC:
            raise ValueError("not a label table")
        self.labels_many = labels_many
        self.last = {}  # record offset -> (generation, native tid, value, labels) of its last good read
        self.torn = 0  # reads that met a record being written (then read again)
        self.snap, self.cached = None, {}  # the records' bytes at the last table() and what it returned

    def read_one(self, off):
        """(native tid, value, label tuple) of one record: value IDLE, AGENT or an address; None when the
        record was being written at every try."""
        got = self._read({off: None})
        return got.get(off)

    def ahead(self):
        """{offset: (generation, address)} of the records written since their last read that hold a label
        tuple's address: the tuples the next table() reads first. A caller that reads the app's memory anyway
        may read their heads in the same system call and hand them to table() (read after this call, they
        are the tuple's while the record's generation stays the same: table() checks)."""
        used = min(_GEN.unpack_from(self.mm, 4)[0], NSLOTS)
        snap = self.mm[HEADER:HEADER + used * SLOT]
        if snap == self.snap:
            return {}
        last, out = self.last, {}
        for i, (g, _native, value) in enumerate(_REC.iter_unpack(snap)):
            if value > AGENT and not g & 1:
                old = last.get(HEADER + i * SLOT)
                if old is None or old[0] != g:
                    out[HEADER + i * SLOT] = (g, value)
        return out

    def _read(self, offs, heads=None, ahead=None):
        """{offset: (native tid, value, labels)} of the records at offs that could be read whole: a record
        whose generation is new has its tuple read (all of them at once; heads: {address: bytes} of tuples
        read ahead, used for a record still at the generation ahead gives), and is kept only when its
        generation did not move meanwhile; one being written is tried again, three times in all."""
        mm, out = self.mm, {}
        todo = list(offs)
        for _ in range(3):
            fresh, busy = [], []
            for off in todo:
                g, native, value = _REC.unpack_from(mm, off)
                last = self.last.get(off)
                if last is not None and last[0] == g:
                    out[off] = last[1:]
                elif g & 1:
                    self.torn += 1
                    busy.append(off)
                else:
                    fresh.append((off, g, native, value))
            addrs = [v for _o, _g, _n, v in fresh if v not in (IDLE, AGENT)]
            known = {v: heads[v] for o, g, _n, v in fresh if heads and heads.get(v) and ahead.get(o) == (g, v)}
            labs = dict(zip(addrs, self.labels_many(addrs, known))) if addrs else {}
            heads = None
            todo = busy
            for off, g, native, value in fresh:
                lab = () if value in (IDLE, AGENT) else labs.get(value)
                if _GEN.unpack_from(mm, off)[0] != g or lab is None:
                    self.torn += 1
                    todo.append(off)
                    continue
                self.last[off] = (g, native, value, lab)
                out[off] = (native, value, lab)
            if not todo:
                break
        return out

    def table(self, heads=None, ahead=None):
        """{native tid: (value, label tuple)} of every record in use that could be read (heads, ahead: the
        tuples read ahead, see ahead())."""
        used = min(_GEN.unpack_from(self.mm, 4)[0], NSLOTS)
        snap = self.mm[HEADER:HEADER + used * SLOT]
        if snap == self.snap:  # no record written since (an idle service's tick): the same table
            return self.cached
        got = self._read([HEADER + i * SLOT for i in range(used)], heads, ahead)
        self.cached = {r[0]: r[1:] for r in got.values()}
        self.snap = snap if len(got) == used and snap == self.mm[HEADER:HEADER + used * SLOT] else None
        return self.cached
