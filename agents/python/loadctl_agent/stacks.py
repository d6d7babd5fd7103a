"""stacks.py - stacks as nodes of one call tree, so the sampler's work per tick follows what changed.

A node is (id, parent node, (function, file, first line), line, code object or None); a stack is the node
of its innermost frame, and equal stacks are the same node. The tree keys a frame's node by (parent id,
id(code object), line): ints hash in nanoseconds where a code object hashes its whole contents, and the
node holds its code object, so no other code object can take that id while the key exists. Function names
are looked up once per new node, and a frame's line once per (parent, code, instruction offset): `at` maps
that triple to the node, so a hit reads f_lasti (a field) instead of f_lineno (a line-table decode).

A thread's Walker remembers its frames and their nodes from root to leaf. On the next tick it reads the
new stack from the leaf up only as far as the first frame it still holds that is an anchor: a plain
function frame (not a generator, coroutine or async generator). A function frame is on one stack once,
for its whole life, and its callers stay the same and stay on their calls while it lives, so everything
above a live anchor is what it was; only the anchor's own line may have moved. A generator frame can be
resumed from another caller, so it is never an anchor. Ids are never reused: when the tree reaches
NODES_MAX nodes it starts anew, and nodes already handed out stay valid (each holds its parent)."""

import inspect

NODES_MAX = 200000
_NOT_ANCHOR = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


class Tree:
    def __init__(self, function):
        self.function = function  # (code, globals) -> (function, file, first line)
        self.children = {}  # (parent id, id(code), line) or (parent id, info, line) -> node
        self.at = {}  # (parent id, id(code), f_lasti) -> node (its node holds the code: the id stays its own)
        self.next_id = 1

    def _add(self, key, parent, info, line, code):
        if len(self.children) >= NODES_MAX:
            self.children.clear()
            self.at.clear()
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


class Walker:
    """One thread's last stack: frames, their f_lasti and nodes, root first, and the position of each
    anchor frame (see the module's doc). After walk(), `moved` says whether the stack differs from the
    previous walk's (another leaf frame, or the leaf at another instruction)."""

    __slots__ = ("frames", "lastis", "nodes", "anchors", "moved")

    def __init__(self):
        self.frames, self.lastis, self.nodes, self.anchors, self.moved = [], [], [], {}, True

    def walk(self, tree, leaf):
        """The node of leaf's stack (None for no frame), looking up only the frames that changed."""
        frames, lastis, nodes = self.frames, self.lastis, self.nodes
        if frames and frames[-1] is leaf:
            lasti = leaf.f_lasti
            self.moved = lasti != lastis[-1]
            if self.moved:
                lastis[-1] = lasti
                nodes[-1] = tree.frame(nodes[-2] if len(nodes) > 1 else None, leaf)
            return nodes[-1]
        self.moved = True
        anchors, chain, f = self.anchors, [], leaf
        shared = 0
        while f is not None:
            p = anchors.get(f)
            if p is not None:
                shared = p + 1
                break
            chain.append(f)
            f = f.f_back
        if shared < len(frames):
            for gone in frames[shared:]:
                anchors.pop(gone, None)
            del frames[shared:], lastis[shared:], nodes[shared:]
        node = nodes[-1] if shared else None
        if shared and frames[-1].f_lasti != lastis[-1]:  # the anchor moved on to another call
            lastis[-1] = frames[-1].f_lasti
            node = nodes[-1] = tree.frame(nodes[-2] if shared > 1 else None, frames[-1])
        at_get = tree.at.get
        for f in reversed(chain):
            code, lasti = f.f_code, f.f_lasti
            hit = at_get((node[0] if node is not None else 0, id(code), lasti))  # tree.frame's hit, inlined
            node = hit if hit is not None else tree.frame(node, f)
            if not code.co_flags & _NOT_ANCHOR:
                anchors[f] = len(frames)
            frames.append(f)
            lastis.append(lasti)
            nodes.append(node)
        return node


def frames_of(node, max_depth):
    """Leaf-first list of ((function, file, first line), line) of a node's stack, at most max_depth."""
    out = []
    while node is not None and len(out) < max_depth:
        out.append((node[2], node[3]))
        node = node[1]
    return out
