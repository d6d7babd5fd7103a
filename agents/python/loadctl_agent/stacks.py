"""stacks.py - stacks as nodes of one call tree, so a known stack costs one dict lookup per tick.

A node is (id, parent node, (function, file, first line), line, code object or None); a stack is the node
of its innermost frame, and equal stacks are the same node. The tree keys a frame's node by (parent id,
id(code object), line): ints hash in nanoseconds where a code object hashes its whole contents, and the
node holds its code object, so no other code object can take that id while the key exists. Function names
are looked up once per new node, and a frame's line once per (parent, code, instruction offset): `at` maps
that triple to the node, so a hit reads f_lasti (a field) instead of f_lineno (a line-table decode).

A thread's Walker reads its whole stack at every tick it moved, but the only Python-level work per frame
is following f_back: the stack's signature (each frame's code object and instruction offset, root to
leaf) is made by C-level maps over the frames; `stacks` maps the offsets (a tuple of small ints, which
hashes fast) to the code objects and the nodes of the stack last seen with them, and the code objects
are compared by identity (a C-level map), so a stack seen before is one lookup; a new one reuses the
nodes of the frames it shares from the root with the walker's last stack (the same code objects and
instruction offsets from the root are equal nodes) and looks up the rest through `at`. A Walker holds no frame but its thread's root and, until release() (which the
sampler calls for a thread that ran since its last tick), its leaf: a frame held by the sampler must be
copied out by the interpreter when its function returns, then holds its callers (f_back), and is
traversed by the garbage collector. A leaf that is the same function frame as at the last tick has the
same callers (a live function frame's callers stay on their calls), so only its own line is looked up
again; a generator or coroutine leaf can be resumed from another caller, so its stack is always read.
Ids are never reused: when the tree reaches NODES_MAX nodes it starts anew (and
forgets its signatures), and nodes already handed out stay valid (each holds its parent)."""

import inspect
from operator import attrgetter, is_

NODES_MAX = 200000
# modules only the agent's own threads run: a stack holding one of their frames is the agent's, never the app's
# (a thread can run them before it is marked in AGENT_THREADS, or after it is unmarked)
AGENT_MODULES = tuple("loadctl_agent.%s." % m for m in ("server", "external", "sampler", "extsampler", "layout"))
STACKS_FRAMES_MAX = 200000  # frames of the signatures kept (~40 bytes each with their nodes: ~8 MB); then anew
_CODE, _LASTI = attrgetter("f_code"), attrgetter("f_lasti")
RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


class Tree:
    def __init__(self, function):
        self.function = function  # (code, globals) -> (function, file, first line)
        self.children = {}  # (parent id, id(code), line) or (parent id, info, line) -> node
        self.at = {}  # (parent id, id(code), f_lasti) -> node (its node holds the code: the id stays its own)
        self.stacks = {}  # instruction offsets, root first -> (the frames' code objects, the frames' nodes)
        self.stacks_frames = 0
        self.next_id = 1
        self.agents = {}  # node id -> whether its stack holds a frame of AGENT_MODULES

    def _add(self, key, parent, info, line, code):
        if len(self.children) >= NODES_MAX:
            self.children.clear()
            self.at.clear()
            self.stacks.clear()
            self.stacks_frames = 0
            self.agents.clear()
        node = self.children[key] = (self.next_id, parent, info, line, code)
        self.next_id += 1
        return node

    def frame(self, parent, f):
        """The node of frame f (its code and current line) under parent (None: the root)."""
        code = f.f_code
        pid = parent[0] if parent is not None else 0
        at_key = (pid, id(code), f.f_lasti)
        node = self.at.get(at_key)
        if node is None:
            line = f.f_lineno
            key = (pid, id(code), line)
            node = self.children.get(key)
            if node is None:
                node = self._add(key, parent, self.function(code, f.f_globals), line, code)
            if len(self.at) >= 2 * NODES_MAX:
                self.at.clear()
            self.at[at_key] = node
        return node

    def child(self, parent, info, line):
        """The node of a frame known only by its info (function, file, first line): the agent's own."""
        key = (parent[0] if parent is not None else 0, info, line)
        node = self.children.get(key)
        if node is None:
            node = self._add(key, parent, info, line, None)
        return node


    def is_agent(self, node):
        """Whether the stack of node holds a frame of the agent's own modules (AGENT_MODULES); known once per
        node (ids are never reused)."""
        agents, chain, n = self.agents, [], node
        while n is not None:
            known = agents.get(n[0])
            if known is not None:
                break
            chain.append(n)
            n = n[1]
        else:
            known = False
        for n in reversed(chain):
            known = known or n[2][0].startswith(AGENT_MODULES)
            agents[n[0]] = known
        return known


def _common(a, b):
    """How many items tuples a and b share from the start (binary search over C-level slice compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _same(a, b):
    """How many items tuples a and b share from the start, compared by identity (C-level map)."""
    flags = list(map(is_, a, b))
    return flags.index(False) if False in flags else len(flags)


class Walker:
    """One thread's last stack: its leaf frame (None once released) and that frame's f_lasti, its node,
    its root frame (a new root is a new thread: sampler.py), and from its last full read the code objects and
    instruction offsets (tuples, root first) with the node of each frame. After walk(), `moved` says whether
    the stack differs from the previous walk's (another leaf frame, or the leaf at another instruction)."""

    __slots__ = ("leaf", "lasti", "node", "root", "moved", "codes", "lastis", "nodes")

    def __init__(self):
        self.leaf = self.lasti = self.node = self.root = None
        self.moved = True
        self.codes = self.lastis = ()
        self.nodes = []

    def walk(self, tree, leaf):
        """The node of leaf's stack (None for no frame)."""
        if leaf is self.leaf and leaf is not None and not leaf.f_code.co_flags & RESUMABLE:
            lasti = leaf.f_lasti
            self.moved = lasti != self.lasti
            if self.moved:  # the same function frame, at another instruction: its callers are what they were
                self.lasti = lasti
                self.node = tree.frame(self.node[1], leaf)
            return self.node
        chain, f = [], leaf
        while f is not None:
            chain.append(f)
            f = f.f_back
        if not chain:
            self.moved = self.leaf is not None
            self.leaf = self.lasti = self.node = self.root = None
            return None
        chain.reverse()
        codes = tuple(map(_CODE, chain))
        lastis = tuple(map(_LASTI, chain))
        known = tree.stacks.get(lastis)  # keyed by the offsets alone (small ints hash fast; ids are new ints)
        nodes = known[1] if known is not None and all(map(is_, known[0], codes)) else None  # the same code
        # objects (by identity: code objects that compare equal may come from other files)
        if nodes is None:  # a new stack: its frames from the last one's first difference on
            k = min(_same(codes, self.codes), _common(lastis, self.lastis))
            nodes = self.nodes[:k]
            node = nodes[-1] if k else None
            at_get = tree.at.get
            for i in range(k, len(chain)):
                f = chain[i]
                hit = at_get((node[0] if node is not None else 0, id(f.f_code), f.f_lasti))  # tree.frame's hit, inlined
                node = hit if hit is not None else tree.frame(node, f)
                nodes.append(node)
            if known is not None and tree.stacks.get(lastis) is known:  # the same offsets under other code
                tree.stacks_frames -= len(known[1])  # objects (not forgotten by a reset meanwhile): replaced
            if tree.stacks_frames + len(nodes) > STACKS_FRAMES_MAX:
                tree.stacks.clear()
                tree.stacks_frames = 0
            tree.stacks[lastis] = (codes, nodes)  # never changed after this (walkers copy before they extend)
            tree.stacks_frames += len(nodes)
        node = nodes[-1]
        self.moved = leaf is not self.leaf or node is not self.node
        self.leaf, self.lasti, self.node, self.root = leaf, chain[-1].f_lasti, node, chain[0]
        self.codes, self.lastis, self.nodes = codes, lastis, nodes
        return node

    def release(self):
        """Let go of the leaf frame until the next walk (which then reads the stack by its signature). For a
        busy thread, whose leaf returns before the next tick: a held frame that returns is copied out by the
        interpreter and then holds its caller (f_back), which is copied in turn when it returns, and so on."""
        self.leaf = None


def frames_of(node, max_depth):
    """Leaf-first list of ((function, file, first line), line) of a node's stack, at most max_depth."""
    out = []
    while node is not None and len(out) < max_depth:
        out.append((node[2], node[3]))
        node = node[1]
    return out
