"""``opscope info`` on traces from strangers: terminal escapes and absurdly deep module trees."""

from __future__ import annotations

import json
import re
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

import tracing
from tracing.cli import main
from tracing.info import (
    MAX_TREE_DEPTH,
    ModuleNode,
    format_info,
    module_tree,
    printable,
    tree_height,
)

# A string that retitles the terminal (OSC), clears the screen (CSI), uses the 8-bit CSI (C1),
# DEL, a bidirectional override, a line break and a tab; then text that must stay as it is.
HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\x7f\u202e\nnext\tcol"
ESCAPED = "\\x1b]0;PWNED\\x07\\x1b[2J\\x9b31m\\x7f\\u202e\\nnext\\tcol"
KEPT = "café 中文 🙂 👩\u200d💻"

# Anything a terminal may act on: C0 controls, DEL, C1 controls, bidi controls, line and
# paragraph separators. Output may hold a newline only between lines.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _mutate(path: Path, *statements: tuple[str, tuple]) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        for sql, params in statements:
            db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def _info(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["info", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_clean(text: str) -> None:
    found = CONTROL.search(text)
    assert found is None, f"control character {found.group()!r} printed raw"


# -- printable ---


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (HOSTILE, ESCAPED),
        ("\x00\x01\x1f", "\\x00\\x01\\x1f"),
        ("\r\n", "\\r\\n"),
        ("a\x85b\x9fc", "a\\x85b\\x9fc"),  # C1: NEL, APC
        ("\u2028\u2029\u2066x\u2069", "\\u2028\\u2029\\u2066x\\u2069"),
        ("\ud800", "\\ud800"),  # a lone surrogate cannot even be encoded for printing
        ("\U000e0001tag", "\\U000e0001tag"),
        (KEPT, KEPT),
        ("layers.0.attn  x/y:12", "layers.0.attn  x/y:12"),
        ("", ""),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on_and_keeps_text(raw, shown):
    assert printable(raw) == shown
    assert printable(shown) == shown  # escaping twice changes nothing
    assert printable(Path("/tmp") / f"x{raw}") == f"/tmp/x{shown}"


# -- trace strings ---


@pytest.fixture
def hostile_trace(synthetic_trace) -> Path:
    """A synthetic trace whose every printed string carries terminal control codes."""
    path = synthetic_trace("hostile.opscope", nan_block=0)
    meta = {
        "error": "RuntimeError: " + HOSTILE,
        "argv": json.dumps(["train.py", HOSTILE, KEPT]),
        "framework": "torch" + HOSTILE,
        "cwd": "/home/" + HOSTILE,
        "created": "2026-11-25\x1b[2J" + HOSTILE,
        "versions": json.dumps({"python": "3.11" + HOSTILE, "op" + HOSTILE: "1"}),
    }
    _mutate(
        path,
        *(("UPDATE meta SET value = ? WHERE key = ?", (value, key)) for key, value in meta.items()),
        ("UPDATE ops SET op_type = op_type || ?", (HOSTILE + KEPT,)),
        ("UPDATE ops SET module_path = module_path || ?", (HOSTILE,)),
        ("UPDATE ops SET file = ?", ("/src/" + HOSTILE + "/model.py",)),
        ("UPDATE ops SET error = ? WHERE seq = 1", ("ValueError: " + HOSTILE,)),
        ("UPDATE tensors SET dtype = ?", ("float32" + HOSTILE,)),
        ("UPDATE module_calls SET path = path || ?, type_name = ?", (HOSTILE, "T" + HOSTILE)),
    )
    return path


def test_info_prints_control_codes_from_the_trace_escaped(capsys, hostile_trace):
    ops = len(tracing.load(hostile_trace).ops)
    code, out, err = _info(capsys, hostile_trace, "--ops", ops, "--depth", 10)
    assert code == 0, err
    _assert_clean(out)
    _assert_clean(err)
    assert ESCAPED in out and "\x1b" not in out and "\x07" not in out
    assert KEPT in out  # accents, CJK, emoji (and the joiner inside one) kept as they are
    for label in ("framework", "command", "recorded", "ended with", "raised", "first NaN/Inf"):
        line = next(line for line in out.splitlines() if line.startswith(f"  {label} "))
        assert "\\x1b" in line, line
    tree = out.split("Module tree", 1)[1].split("\n\n", 1)[0]
    assert tree.count("\\x1b") >= 2 * (len(tree.splitlines()) - 1)  # each path and type
    # --ops: one line per op, each showing the escaped op type, module, dtype and file
    table = out.rsplit("\n\n", 1)[1].splitlines()
    assert table[0].split() == ["seq", "op", "module", "shape", "dtype", "location"]
    assert len(table) == 1 + ops
    assert all(row.startswith(str(seq)) for seq, row in enumerate(table[1:]))
    assert all(row.count(ESCAPED) == 3 and "model.py:" in row for row in table[1:])


def test_format_info_itself_returns_printable_text(hostile_trace):
    with tracing.load(hostile_trace) as trace:
        text = format_info(trace)
    _assert_clean(text)
    assert ESCAPED in text


# -- error lines ---


@pytest.mark.parametrize("kind", ["missing", "not a trace", "damaged"])
def test_a_hostile_path_still_gives_one_clear_error_line(capsys, tmp_path, synthetic_trace, kind):
    path = tmp_path / f"run{HOSTILE}.opscope"
    if kind == "not a trace":
        path.write_text("hello, this is not a trace" * 10)
    elif kind == "damaged":
        path = synthetic_trace(path.name)
        _mutate(path, ("UPDATE ops SET line = 'x' WHERE seq = 0", ()))
    code, out, err = _info(capsys, path)
    assert code == 2 and out == ""
    _assert_clean(err)
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.startswith(f"opscope: error: {printable(path)}: ")


def test_record_error_lines_escape_the_path_too(capsys, tmp_path):
    code = main(["record", str(tmp_path / f"train{HOSTILE}.py")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    _assert_clean(err)
    assert err.count("\n") == 1 and ESCAPED in err and "no such script" in err


# -- deep module trees ---

DEEP = 5 * MAX_TREE_DEPTH // 2  # deeper than the printed tree may go; cheap to build and load


def _chain_trace(synthetic_trace, depth: int) -> Path:
    """Module calls nested ``depth`` levels, each inside the one before; every op in the last."""
    path = synthetic_trace(f"chain{depth}.opscope", blocks=1)
    rows = [(i, f"m{i}", "M", 1, i - 1, i, 0, i, "torch") for i in range(depth)]
    _mutate(
        path,
        ("DELETE FROM module_calls", ()),
        ("DELETE FROM module_exits", ()),
        ("UPDATE ops SET call_id = ?, module_call = 1", (depth - 1,)),
    )
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO module_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    return path


@pytest.fixture
def deep_trace(synthetic_trace) -> Path:
    return _chain_trace(synthetic_trace, DEEP)


def _tree_section(out: str) -> list[str]:
    lines = out.split("\nModule tree", 1)[1].splitlines()[1:]
    return lines[: lines.index("")] if "" in lines else lines


def test_a_deep_module_tree_is_one_chain_of_merged_nodes(deep_trace):
    with tracing.load(deep_trace) as trace:
        ops = len(trace.ops)
        roots = module_tree(trace)
    level: list[ModuleNode] = roots
    for depth in range(DEEP):
        assert [(n.path, n.type_name, n.calls, n.ops) for n in level] == [
            (f"m{depth}", "M", 1, ops)
        ]
        level = list(level[0].children.values())
    assert level == []
    assert tree_height(roots) == DEEP


def _peak_bytes_per_call(path: Path) -> float:
    with tracing.load(path) as trace:
        tracemalloc.start()
        try:
            module_tree(trace)
            return tracemalloc.get_traced_memory()[1] / len(trace.module_calls)
        finally:
            tracemalloc.stop()


def test_the_module_tree_needs_memory_linear_in_the_calls_however_deep(synthetic_trace):
    # Memory, not time: a count of bytes, the same on any machine. Five times deeper may not
    # cost more per call (the ancestor paths it once kept cost 4x more per call here).
    shallow = _peak_bytes_per_call(_chain_trace(synthetic_trace, DEEP // 5))
    deep = _peak_bytes_per_call(_chain_trace(synthetic_trace, DEEP))
    assert deep < 1.5 * shallow, (shallow, deep)


def test_info_on_a_deep_module_tree_prints_the_asked_depth_and_says_what_is_left_out(
    capsys, deep_trace
):
    code, out, err = _info(capsys, deep_trace)
    assert code == 0, err
    tree = _tree_section(out)
    assert [line.split()[0] for line in tree[:4]] == ["m0", "m1", "m2", "m3"]
    assert tree[4:] == [f"  … {DEEP - 4:,} deeper levels left out (raise --depth to see them)"]


def test_info_on_a_deep_module_tree_prints_at_most_the_cap(capsys, deep_trace):
    code, out, err = _info(capsys, deep_trace, "--depth", 10 * DEEP)
    assert code == 0, err
    tree = _tree_section(out)
    assert len(tree) == MAX_TREE_DEPTH + 1
    last = MAX_TREE_DEPTH - 1
    assert tree[last].startswith("  " * MAX_TREE_DEPTH + f"m{last} ")
    assert tree[-1] == (
        f"  … {DEEP - MAX_TREE_DEPTH:,} deeper levels left out "
        f"(at most {MAX_TREE_DEPTH} levels are printed)"
    )


def test_a_tree_within_the_depth_gets_no_note(capsys, data_dir):
    code, out, _ = _info(capsys, data_dir / "tiny_v1.opscope")
    assert code == 0 and "deeper level" not in out
    code, out, _ = _info(capsys, data_dir / "tiny_v1.opscope", "--depth", 2)
    assert _tree_section(out)[-1] == "  … 1 deeper level left out (raise --depth to see them)"
