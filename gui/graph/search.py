"""Find nodes by op name, op type or module path (pure)."""

from __future__ import annotations

from gui.graph.hierarchy import Hierarchy

MAX_RESULTS = 5000


def search(hierarchy: Hierarchy, query: str, limit: int = MAX_RESULTS) -> list[str]:
    """Node ids matching ``query`` (case-insensitive), best matches first, then in execution
    order.

    Ranks: the short op name or group title equals the query; it starts with the query; the
    query appears in the op type, title, caption or module path. Groups come before ops of the
    same rank so ``attn`` finds the module before the ops inside it.
    """
    needle = query.strip().lower()
    if not needle:
        return []
    ranked: list[tuple[int, int, int, str]] = []
    for node in hierarchy.nodes.values():
        if node.kind == "root":
            continue
        label = node.label.lower()
        if label == needle or node.type_name.lower() == needle:
            rank = 0
        elif label.startswith(needle):
            rank = 1
        elif (
            needle in label
            or needle in node.type_name.lower()
            or needle in node.caption.lower()
            or needle in node.module_path.lower()
        ):
            rank = 2
        else:
            continue
        ranked.append((rank, 0 if node.is_group else 1, node.seq, node.id))
    ranked.sort()
    return [node_id for *_, node_id in ranked[:limit]]
