"""stacks.py - stacks as nodes of one call tree, so the sampler's work per tick follows what changed.

A node is (id, parent node, (function, file, first line), line, code object or None); a stack is the node
of its innermost frame, and equal stacks are the same node. The tree keys a frame's node by (parent id,
id(code object), line): ints hash in nanoseconds where a code object hashes its whole contents, and the
node holds its code object, so no other code object can take that id while the key exists. Function names
are looked up once per new node. A thread's Walker remembers its frames and their nodes from root to
leaf: on the next tick the stack is read root first and compared by identity, and only the frames below
the deepest one it still shares are looked up, since a live frame's callers and their lines cannot
change; that shared frame is read again (its line may have moved). Ids are never reused: when the tree
reaches NODES_MAX nodes it starts anew, and nodes already handed out stay valid (each holds its parent)."""

NODES_MAX = 200000


class Tree:
    def __init__(self, function):
        self.function = function  # (code, globals) -> (function, file, first line)
        self.children = {}  # (parent id, id(code), line) or (parent id, info, line) -> node
        self.next_id = 1

    def _add(self, key, parent, info, line, code):
        if len(self.children) >= NODES_MAX:
            self.children.clear()
        node = self.children[key] = (self.next_id, parent, info, line, code)
        self.next_id += 1
        return node

    def frame(self, parent, f):
        """The node of frame f (its code and current line) under parent (None: the root)."""
        code, line = f.f_code, f.f_lineno
        key = (parent[0] if parent is not None else 0, id(code), line)
        node = self.children.get(key)
        if node is None:
            node = self._add(key, parent, self.function(code, f.f_globals), line, code)
        return node

    def child(self, parent, info, line):
        """The node of a frame known only by its info (function, file, first line): the agent's own."""
        key = (parent[0] if parent is not None else 0, info, line)
        node = self.children.get(key)
        if node is None:
            node = self._add(key, parent, info, line, None)
        return node


class Walker:
    """One thread's last stack: frames and nodes, root first."""

    __slots__ = ("frames", "nodes")

    def __init__(self):
        self.frames, self.nodes = [], []

    def walk(self, tree, leaf):
        """The node of leaf's stack (None for no frame), looking up only the frames that changed."""
        frames, nodes = self.frames, self.nodes
        if frames and frames[-1] is leaf and nodes[-1][3] == leaf.f_lineno:
            return nodes[-1]
        chain, f = [], leaf
        while f is not None:
            chain.append(f)
            f = f.f_back
        chain.reverse()
        shared, n = 0, min(len(chain), len(frames))
        while shared < n and chain[shared] is frames[shared]:
            shared += 1
        del frames[shared:], nodes[shared:]
        node = nodes[-1] if shared else None
        if node is not None and node[3] != frames[-1].f_lineno:  # the deepest shared frame moved on
            node = nodes[-1] = tree.frame(node[1], frames[-1])
        children, append = tree.children, nodes.append
        for f in chain[shared:]:  # tree.frame, inlined for the hits (the common case)
            hit = children.get((node[0] if node is not None else 0, id(f.f_code), f.f_lineno))
            node = hit if hit is not None else tree.frame(node, f)
            append(node)
        frames.extend(chain[shared:])
        return node


def frames_of(node, max_depth):
    """Leaf-first list of ((function, file, first line), line) of a node's stack, at most max_depth."""
    out = []
    while node is not None and len(out) < max_depth:
        out.append((node[2], node[3]))
        node = node[1]
    return out
