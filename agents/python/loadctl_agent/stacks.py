"""stacks.py - stacks as nodes of one call tree, so the sampler's work per tick follows what changed.

A node is (id, parent node, (function, file, first line), line); a stack is the node of its innermost
frame, and equal stacks are the same node (the tree keys a child by (parent id, function, line)). A
thread's Walker remembers its frames and their nodes from root to leaf: on the next tick only the
frames below the deepest one it still shares (the same frame object) are read, since a live frame's
callers and their lines cannot change; that shared frame is read again (its line may have moved).
Ids are never reused: when the tree reaches NODES_MAX nodes it starts anew, and nodes already handed
out stay valid (each holds its parent)."""

NODES_MAX = 200000


class Tree:
    def __init__(self, function):
        self.function = function  # (code, globals) -> (function, file, first line)
        self.children = {}  # (parent id, info, line) -> node
        self.next_id = 1

    def child(self, parent, info, line):
        key = (parent[0] if parent is not None else 0, info, line)
        node = self.children.get(key)
        if node is None:
            if len(self.children) >= NODES_MAX:
                self.children.clear()
            node = self.children[key] = (self.next_id, parent, info, line)
            self.next_id += 1
        return node


class Walker:
    """One thread's last stack: frames and nodes root first, and each frame's depth by id()."""

    __slots__ = ("frames", "nodes", "depth_of")

    def __init__(self):
        self.frames, self.nodes, self.depth_of = [], [], {}

    def walk(self, tree, leaf):
        """The node of leaf's stack (None for no frame), reading only the frames that changed."""
        frames, nodes, depth_of = self.frames, self.nodes, self.depth_of
        if frames and frames[-1] is leaf and nodes[-1][3] == leaf.f_lineno:
            return nodes[-1]
        new, shared, f = [], -1, leaf
        while f is not None:
            d = depth_of.get(id(f))
            if d is not None and frames[d] is f:
                shared = d
                break
            new.append(f)
            f = f.f_back
        for old in frames[shared + 1:]:
            del depth_of[id(old)]
        del frames[shared + 1:], nodes[shared + 1:]
        node = nodes[shared] if shared >= 0 else None
        if node is not None and node[3] != frames[shared].f_lineno:  # the shared frame moved on
            node = nodes[shared] = tree.child(node[1], node[2], frames[shared].f_lineno)
        function = tree.function
        for f in reversed(new):
            node = tree.child(node, function(f.f_code, f.f_globals), f.f_lineno)
            depth_of[id(f)] = len(frames)
            frames.append(f)
            nodes.append(node)
        return node


def frames_of(node, max_depth):
    """Leaf-first list of ((function, file, first line), line) of a node's stack, at most max_depth."""
    out = []
    while node is not None and len(out) < max_depth:
        out.append((node[2], node[3]))
        node = node[1]
    return out
