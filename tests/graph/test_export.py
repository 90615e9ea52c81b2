"""SVG and PNG export: real text in the SVG, PNG sizes, options and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tracing
from gui.graph.export import ExportError, ExportOptions, export_graph
from gui.graph.model import GraphModel

ROOT_DIR = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def model(qapp, synthetic_trace):
    from gui.graph.qt_fonts import QtMeasure

    return GraphModel(tracing.load(synthetic_trace(blocks=3, nan_block=1)), measure=QtMeasure())


def texts(path: Path) -> list[str]:
    tree = ET.parse(path)
    return [el.text or "" for el in tree.iter(f"{SVG}text")]


def svg_root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_svg_has_op_names_and_shapes_as_text(model, tmp_path):
    out = export_graph(model, ExportOptions(tmp_path / "g.svg", depth=None, unfold=True))
    words = texts(out)
    assert words.count("softmax") == 3
    assert words.count("layer_norm") == 6
    assert "tokens" in words and "8×16 float32" in words
    assert "q · 8×16" in words and "W ⟨16×16⟩" in words
    assert {"layers.0", "layers.1", "layers.2", "attn", "mlp"} <= set(words)
    titles = [el.text for el in svg_root(out).iter(f"{SVG}title")]
    assert any("torch.softmax" in t and "NaN" in t for t in titles)  # hover text of the NaN op
    assert any("tensor: 8×8 float32" in t for t in titles)  # edges carry shape and dtype
    assert "NaN/Inf" in words


def test_svg_depth_zero_shows_closed_groups_only(model, tmp_path):
    out = export_graph(model, ExportOptions(tmp_path / "g.svg", depth=0))
    root = svg_root(out)
    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "group"]
    words = texts(out)
    assert "softmax" not in words and "layers.0–2" in words and "Block ×3" in words


def test_svg_module_export_holds_only_that_module(model, tmp_path):
    out = export_graph(model, ExportOptions(tmp_path / "g.svg", depth=None, module="layers.1.attn"))
    words = texts(out)
    assert words.count("softmax") == 1 and "tokens" not in words and "mlp" not in words
    assert "attn" in words


def test_unknown_module_names_close_matches(model, tmp_path):
    with pytest.raises(ExportError, match=r"no module 'layers\.9'.*layers"):
        export_graph(model, ExportOptions(tmp_path / "g.svg", module="layers.9"))


def test_dark_style_changes_the_colours(model, tmp_path):
    light = export_graph(model, ExportOptions(tmp_path / "l.svg", style="light"))
    dark = export_graph(model, ExportOptions(tmp_path / "d.svg", style="dark"))
    background = [svg_root(p).find(f"{SVG}rect").get("fill") for p in (light, dark)]
    assert background == ["#ffffff", "#1e1f22"]


def test_current_view_export_crops_to_the_region(model, tmp_path):
    out = export_graph(model, ExportOptions(tmp_path / "v.svg", view=(10.0, 20.0, 300.0, 200.0)))
    root = svg_root(out)
    assert root.get("viewBox") == "10 20 300 200"
    assert root.get("width") == "300"


def png_size(path: Path) -> tuple[int, int]:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    return image.width(), image.height()


def test_png_size_follows_scale_and_dpi(model, tmp_path):
    one = png_size(export_graph(model, ExportOptions(tmp_path / "1.png", depth=1, scale=1.0)))
    two = png_size(export_graph(model, ExportOptions(tmp_path / "2.png", depth=1, scale=2.0)))
    dpi = png_size(export_graph(model, ExportOptions(tmp_path / "d.png", depth=1, dpi=288)))
    assert abs(two[0] - 2 * one[0]) <= 1 and abs(two[1] - 2 * one[1]) <= 1
    assert abs(dpi[0] - 3 * one[0]) <= 1
    assert one[0] > 100 and one[1] > 100


def test_png_is_drawn_not_blank(model, tmp_path):
    from PySide6.QtGui import QImage

    image = QImage(str(export_graph(model, ExportOptions(tmp_path / "g.png", scale=1.0))))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 10


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("graph.pdf", "unknown format"),
        ("graph", "unknown format"),
        ("missing/graph.svg", "does not exist"),
    ],
)
def test_bad_output_paths_say_what_is_wrong(model, tmp_path, name, message):
    with pytest.raises(ExportError, match=message):
        export_graph(model, ExportOptions(tmp_path / name))


def test_a_folder_is_not_an_output_file(model, tmp_path):
    folder = tmp_path / "out.svg"
    folder.mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_graph(model, ExportOptions(folder))


def test_oversized_png_is_refused_with_advice(model, tmp_path):
    with pytest.raises(ExportError, match=r"too big.*--scale"):
        export_graph(model, ExportOptions(tmp_path / "g.png", depth=None, unfold=True, scale=30))


# -- the command line, end to end in a subprocess ---


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "gui.graph.cli_export", *args],
        capture_output=True,
        text=True,
        cwd=ROOT_DIR,
        env=env,
        timeout=120,
    )


def test_cli_exports_svg_and_png(synthetic_trace, tmp_path):
    trace = synthetic_trace(blocks=2)
    svg = tmp_path / "graph.svg"
    done = run_cli(str(trace), "-o", str(svg), "--depth", "all", "--unfold")
    assert done.returncode == 0, done.stderr
    assert texts(svg).count("softmax") == 2
    png = tmp_path / "graph.png"
    done = run_cli(str(trace), "-o", str(png), "--depth", "1", "--scale", "1.5", "--style", "dark")
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{trace}", "-o", "{tmp}/graph.gif"), "unknown format"),
        (("{tmp}/missing.opscope", "-o", "{tmp}/g.svg"), "no such file"),
        (("{bad}", "-o", "{tmp}/g.svg"), "not an OpScope trace|not a SQLite|damaged|trace"),
        (("{trace}", "-o", "{tmp}/nowhere/g.svg"), "does not exist"),
        (("{trace}", "-o", "{tmp}/g.svg", "--depth", "deep"), "bad --depth"),
        (("{trace}", "-o", "{tmp}/g.svg", "--module", "nope"), "no module 'nope'"),
    ],
)
def test_cli_errors_are_one_clear_line(synthetic_trace, tmp_path, args, message):
    import re

    bad = tmp_path / "bad.opscope"
    bad.write_text("this is not a trace")
    values = {"trace": str(synthetic_trace(blocks=1)), "tmp": str(tmp_path), "bad": str(bad)}
    done = run_cli(*(a.format(**values) for a in args))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("opscope export: error:")
    assert re.search(message, lines[0]), lines[0]


def test_cli_reports_progress_for_big_traces(synthetic_trace, tmp_path):
    trace = synthetic_trace(blocks=130)
    done = run_cli(str(trace), "-o", str(tmp_path / "g.svg"), "--depth", "1")
    assert done.returncode == 0, done.stderr
    assert "exporting: layout" in done.stderr and "exporting: svg 100%" in done.stderr


def test_long_qt_sessions_do_not_abort_on_the_none_refcount_bug():
    """PySide6 6.12.0 on Python 3.11 drops a ``None`` reference per void call; importing the
    viewer installs the guard (``gui.refcount_guard``) that keeps a long session alive (it
    aborts without it on that build)."""
    code = (
        "import sys; from PySide6.QtGui import QColor;"
        "import gui.graph.panel;"
        "c = QColor()\n"
        "for _ in range(300_000): c.setRed(1)\n"
        "print('alive')"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "alive"


def test_graph_viewer_and_exporter_import_no_framework():
    code = (
        "import sys, gui.graph.panel, gui.graph.cli_export, gui.graph.export_dialog;"
        "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules];"
        "print(bad)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_pure_graph_modules_import_no_qt():
    code = (
        "import sys, gui.graph.hierarchy, gui.graph.visible, gui.graph.layout, "
        "gui.graph.expansion, gui.graph.search, gui.graph.svg, gui.graph.model, "
        "gui.graph.tooltips;"
        "print([m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'superqt'))])"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
