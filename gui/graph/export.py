"""Graph export to SVG and PNG: one renderer for File → Export Graph and ``opscope export``.

The graph is laid out by ``GraphModel`` and written by ``svg.SvgWriter``; a PNG is that same
SVG drawn by Qt's SVG renderer at the chosen scale, so both formats show the same picture.
Needs a ``QGuiApplication`` (for font metrics and for drawing PNGs): ``ensure_gui_app()``
makes an offscreen one when there is none.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gui.graph.hierarchy import ROOT
from gui.graph.layout import GroupLayout, NodeBox
from gui.graph.style import Style, style_named
from gui.graph.svg import write_svg
from gui.graph.visible import ViewState

if TYPE_CHECKING:
    from gui.graph.model import GraphModel

FORMATS = ("svg", "png")
MAX_PNG_SIDE = 32_000
MAX_PNG_PIXELS = 400_000_000
EXPORT_BUDGET = 120
"""Visible nodes aimed for when no depth is given (a readable, publishable first level)."""

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)`` with fraction in [0, 1]."""


class ExportError(ValueError):
    """An export that cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export and how.

    ``depth``: ``"auto"`` opens groups while the picture stays readable, an int opens groups
    that many levels deep (0: all closed), ``None`` opens everything. ``state`` (from the GUI)
    exports exactly what is open on screen and wins over ``depth``. ``view`` crops to a region
    (x, y, w, h) of the root layout (the GUI's "current view").
    """

    path: Path
    depth: int | str | None = "auto"
    module: str | None = None
    style: str = "light"
    scale: float = 2.0
    dpi: float | None = None
    unfold: bool = False
    state: ViewState | None = None
    view: tuple[float, float, float, float] | None = None
    current_seq: int | None = None

    @property
    def format(self) -> str:
        return export_format(self.path)

    @property
    def pixel_scale(self) -> float:
        return self.dpi / 96.0 if self.dpi else self.scale


def export_format(path: str | os.PathLike[str]) -> str:
    """``svg`` or ``png`` from the file name; ``ExportError`` for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f".{suffix}" if suffix else "no extension"
        raise ExportError(
            f"cannot export to {os.fspath(path)!r}: unknown format ({shown}); "
            "use a file name ending in .svg or .png"
        )
    return suffix


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The output path, after checking its format and that its folder can be written."""
    out = Path(path).expanduser()
    export_format(out)
    if out.is_dir():
        raise ExportError(f"cannot export to {os.fspath(out)!r}: it is a folder")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(
            f"cannot export to {os.fspath(out)!r}: folder {os.fspath(folder)!r} does not exist"
        )
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ExportError(f"cannot export to {os.fspath(out)!r}: permission denied")
    return out


def ensure_gui_app():
    """The running ``QGuiApplication``, or a new offscreen one (for command-line exports)."""
    from PySide6.QtGui import QGuiApplication

    from gui.refcount_guard import protect_singletons

    protect_singletons()  # done on importing gui already; kept visible where Qt starts
    app = QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(sys.argv[:1] or ["opscope"])
    return app


def export_state(model: GraphModel, options: ExportOptions, root: str) -> ViewState:
    """The expansion state an export draws."""
    if options.state is not None:
        return options.state
    from gui.graph.expansion import Expansion

    expansion = Expansion(model.visible)
    if options.depth == "auto":
        expansion.auto_open(EXPORT_BUDGET, root=root)
        if root != ROOT:
            expansion.expanded.add(root)
    elif options.depth is None or isinstance(options.depth, int):
        expansion.set_depth(options.depth, root=root)
    else:
        raise ExportError(f"bad depth {options.depth!r}: use a number, 'all' or 'auto'")
    if options.unfold:
        expansion.unfold_all()
    return expansion.snapshot()


def render_svg(
    model: GraphModel,
    options: ExportOptions,
    style: Style,
    progress: Progress | None = None,
) -> str:
    """Lay out and write the SVG text for ``options`` (no file is written)."""
    root = ROOT
    if options.module:
        try:
            root = model.module_root(options.module)
        except KeyError as error:
            raise ExportError(str(error.args[0])) from None
    state = export_state(model, options, root)
    groups = max(1, sum(1 for g in state.expanded))
    report = progress or (lambda stage, fraction: None)
    report("layout", 0.0)
    layout = model.engine.layout(
        state, root, progress=lambda done: report("layout", min(done / groups, 1.0))
    )
    report("layout", 1.0)
    if root != ROOT:
        layout = _framed(layout, model.engine.style.spacing.root_margin)
    current = None
    if options.current_seq is not None:
        current = model.visible.representative(model.op_node(options.current_seq), state)
    total = max(1, _count_boxes(layout))
    name = Path(getattr(model.trace, "path", "trace")).name
    title = f"OpScope graph of {name}" + (f" — {options.module}" if options.module else "")
    report("svg", 0.0)
    text = write_svg(
        model.visible,
        layout,
        style,
        model.engine.measure,
        view=options.view,
        current=current,
        title=title,
        progress=lambda done: report("svg", min(done / total, 1.0)),
    )
    report("svg", 1.0)
    return text


def _framed(layout: GroupLayout, margin: float) -> GroupLayout:
    """A module's layout drawn as its open group box on a margin (for ``--module``)."""
    box = NodeBox(layout.id, margin, margin, layout.width, layout.height, layout)
    return GroupLayout(
        "export", layout.width + 2 * margin, layout.height + 2 * margin, (box,), (), None, None
    )


def _count_boxes(layout) -> int:
    count, stack = 0, [layout]
    while stack:
        current = stack.pop()
        for box in current.nodes:
            count += 1
            if box.content is not None:
                stack.append(box.content)
    return count


def export_graph(
    model: GraphModel, options: ExportOptions, progress: Progress | None = None
) -> Path:
    """Write the SVG or PNG file described by ``options``; returns its path."""
    out = check_output_path(options.path)
    fmt = export_format(out)
    if options.pixel_scale <= 0 or options.pixel_scale > 32:
        raise ExportError(f"bad scale {options.pixel_scale:g}: use a scale between 0.1 and 32")
    style = style_named(options.style, model.engine.style.font_family)
    if style.palette is not model.engine.style.palette:
        from dataclasses import replace

        style = replace(model.engine.style, palette=style.palette)
    else:
        style = model.engine.style
    text = render_svg(model, options, style, progress)
    try:
        if fmt == "svg":
            out.write_text(text, encoding="utf-8")
        else:
            _write_png(text, out, options, progress)
    except OSError as error:
        raise ExportError(f"cannot write {os.fspath(out)!r}: {error.strerror or error}") from None
    return out


def _write_png(svg_text: str, out: Path, options: ExportOptions, progress: Progress | None) -> None:
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    ensure_gui_app()
    renderer = QSvgRenderer(QByteArray(svg_text.encode("utf-8")))
    if not renderer.isValid():
        raise ExportError("internal error: the SVG could not be drawn as PNG")
    view = renderer.viewBoxF()
    scale = options.pixel_scale
    width, height = round(view.width() * scale), round(view.height() * scale)
    if width > MAX_PNG_SIDE or height > MAX_PNG_SIDE or width * height > MAX_PNG_PIXELS:
        raise ExportError(
            f"the PNG would be {width}×{height} pixels, too big; lower --scale/--dpi, export "
            "fewer levels (--depth) or one module (--module), or export SVG"
        )
    if progress:
        progress("png", 0.0)
    image = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(0, 0, 0, 0))
    dots_per_meter = round(96.0 * scale / 0.0254)
    image.setDotsPerMeterX(dots_per_meter)
    image.setDotsPerMeterY(dots_per_meter)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    renderer.render(painter, QRectF(0, 0, width, height))
    painter.end()
    if progress:
        progress("png", 0.9)
    if not image.save(os.fspath(out), "PNG"):
        raise ExportError(f"cannot write {os.fspath(out)!r}: saving the PNG failed")
    if progress:
        progress("png", 1.0)
