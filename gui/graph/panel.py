"""``GraphPanel``: the debugger's graph dock, following a ``DebugSession`` (Qt).

It listens to ``session.sig_trace_loaded`` and ``session.sig_current_op_changed``, and moves
the session with ``session.go_to(seq)`` when an op is clicked. Building the compound graph and
every layout run on a worker thread; the scene is updated in place when a layout arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from gui.coalesce import CoalescedCall
from gui.formatting import plain_tooltip
from gui.graph.layout import GroupLayout
from gui.graph.model import GraphModel
from gui.graph.qt_fonts import QtMeasure, default_family
from gui.graph.scene import GraphScene
from gui.graph.search import search
from gui.graph.style import DARK, LIGHT, Style, is_dark_color
from gui.graph.view import GraphView
from gui.graph.visible import ViewState
from gui.refcount_guard import protect_singletons

CONTENT_ZOOM = 0.08
"""Below this zoom, open top-level groups are drawn as boxes without their inside."""


def app_style() -> Style:
    """Light or dark graph style following the application palette."""
    app = QGuiApplication.instance()
    family = default_family()
    if app is None:
        return Style(font_family=family)
    base = app.palette().color(QPalette.ColorRole.Base).name()
    palette = DARK if is_dark_color(base) else LIGHT
    return Style(palette=palette, font_family=family)


class GraphPanel(QWidget):
    """The op graph of the session's trace: module groups, current op, search, export."""

    sig_layout_applied = Signal()
    """A new layout is on screen (after loading, expanding, following or searching)."""
    sig_first_frame = Signal(float)
    """The first layout of a newly loaded trace is on screen (seconds since the load began)."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        protect_singletons()  # done on importing gui already; idempotent
        super().__init__(parent)
        self.session = session
        self.graph_style = app_style()
        self.measure = QtMeasure(self.graph_style.font_family)
        self.model: GraphModel | None = None
        self.shown_state: ViewState | None = None
        self.follow = True
        self._generation = 0
        self._busy = False
        self._pending: tuple[str | None, Callable[[], None] | None] | None = None
        self._load_started = 0.0
        self._search_hits: list[str] = []
        self._search_index = -1
        self._search_text = ""
        self._scene_rect_set = False
        self._workers: set = set()
        self.shown_seq = -1
        """The seq of the op marked current (for tests and the latency benchmark)."""
        self._scroll = CoalescedCall(self._scroll_to_current, self)
        """Scrolling to the current op: at once for a lone step, once the cursor rests."""

        self.scene = GraphScene(self.graph_style, self)
        self.view = GraphView(self.scene, self)
        self._build_toolbar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._toolbar)
        layout.addWidget(self.view, 1)

        self.view.sig_zoom_changed.connect(self._on_zoom_changed)
        self.scene.sig_node_clicked.connect(self._on_node_clicked)
        self.scene.sig_node_toggled.connect(self._on_node_toggled)
        self.scene.sig_node_menu_requested.connect(self._on_node_menu)
        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        if getattr(session, "trace", None) is not None:
            self._on_trace_loaded()

    # -- toolbar ---

    def _build_toolbar(self) -> None:
        bar = QWidget(self)
        row = QHBoxLayout(bar)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(4)
        self.search_box = QLineEdit(bar)
        self.search_box.setPlaceholderText("Search ops, types, modules…")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(80)
        self.search_box.returnPressed.connect(self.search_next)
        self.search_box.textChanged.connect(self._on_search_text_changed)
        QShortcut(QKeySequence("Shift+Return"), self.search_box, self.search_previous)
        self.search_status = QLabel("", bar)
        self.busy_label = QLabel("laying out…", bar)
        self.busy_label.setEnabled(False)
        self.busy_label.hide()
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(250)
        self._busy_timer.timeout.connect(lambda: self.busy_label.setVisible(self._busy))
        row.addWidget(self.search_box, 1)
        row.addWidget(self.search_status)
        row.addWidget(self.busy_label)

        def button(text: str, tip: str, slot: Callable[[], None], checkable: bool = False):
            tool = QToolButton(bar)
            tool.setText(text)
            tool.setToolTip(tip)
            tool.setAutoRaise(True)
            tool.setCheckable(checkable)
            if checkable:
                tool.toggled.connect(slot)
            else:
                tool.clicked.connect(slot)
            row.addWidget(tool)
            return tool

        self.fit_button = button("Fit", "Show the whole graph", self.fit)
        self.current_button = button("Current", "Centre on the current op", self.center_current)
        self.follow_button = button(
            "Follow",
            "Open the groups that hide the current op while stepping",
            self._on_follow_toggled,
            checkable=True,
        )
        self.follow_button.setChecked(True)
        self.more_button = QToolButton(bar)
        self.more_button.setText("⋯")
        self.more_button.setToolTip("More graph actions")
        self.more_button.setAutoRaise(True)
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more = QMenu(self.more_button)
        more.addAction("Collapse all groups", self.collapse_all)
        more.addAction("Open one more level", self.open_next_level)
        more.addAction("Unfold repeated blocks", self.unfold_all)
        more.addAction("Fold repeated blocks", self.fold_all)
        more.addSeparator()
        more.addAction("Export graph…", self.export_graph_dialog)
        self.more_button.setMenu(more)
        row.addWidget(self.more_button)
        self._toolbar = bar

    # -- session signals ---

    def _on_trace_loaded(self) -> None:
        trace = getattr(self.session, "trace", None)
        self._generation += 1
        generation = self._generation
        self.model = None
        self.shown_state = None
        self._pending = None
        self._search_hits = []
        self._scene_rect_set = False
        self.scene.reset(None)
        if trace is None:
            return
        self._load_started = time.perf_counter()
        style, measure = self.graph_style, self.measure

        def build() -> tuple[GraphModel, ViewState, GroupLayout]:
            model = GraphModel(trace, style, measure)
            current = getattr(self.session, "current", None)
            if current is not None and self.follow:
                model.expansion.follow(model.op_node(current.seq))
            state = model.expansion.snapshot()
            return model, state, model.engine.layout(state)

        self._busy = True
        self._run(build, lambda result: self._on_model_built(generation, *result))

    def _on_model_built(
        self, generation: int, model: GraphModel, state: ViewState, layout: GroupLayout
    ) -> None:
        if not self._worker_done(generation):
            return
        self.model = model
        self.scene.reset(model.visible)
        self._show(layout, state)
        self._mark_current(scroll=False)
        op_id = self.current_node()
        shown = model.visible.representative(op_id, state) if op_id else None
        self.view.show_start(self.content_rect(), self.scene.item_rect(shown) if shown else None)
        self.sig_first_frame.emit(time.perf_counter() - self._load_started)
        self.sig_layout_applied.emit()
        if self.follow:  # the cursor may have moved while the graph was being built
            self._mark_current(scroll=True, follow=True)
        self._start_pending()

    def _on_current_op_changed(self, seq: int) -> None:
        self.shown_seq = seq
        self._mark_current(scroll=True, follow=self.follow)

    # -- current op ---

    def current_node(self) -> str | None:
        """Node id of the session's current op (None without a trace)."""
        current = getattr(self.session, "current", None)
        if self.model is None or current is None:
            return None
        return self.model.op_node(current.seq)

    def _mark_current(self, scroll: bool, follow: bool = False) -> None:
        op_id = self.current_node()
        if op_id is None or self.shown_state is None or self.model is None:
            self.scene.set_current(None)
            return
        shown = self.model.visible.representative(op_id, self.shown_state)
        self.scene.set_current(shown)
        if follow and shown != op_id and self.model.expansion.follow(op_id):
            self._request_layout(anchor=self._root_level_of(op_id), follow_current=True)
            return
        if scroll:
            self._scroll.request()

    def _current_rect(self) -> QRectF | None:
        """Scene rectangle of what shows the current op (the op, or the group hiding it)."""
        op_id = self.current_node()
        if op_id is None or self.model is None or self.shown_state is None:
            return None
        return self.scene.item_rect(self.model.visible.representative(op_id, self.shown_state))

    def _scroll_to_current(self) -> None:
        rect = self._current_rect()
        if rect is not None:
            self.view.ensure_shown(rect)

    def _root_level_of(self, node_id: str) -> str | None:
        """The top-level visible node that holds ``node_id`` now."""
        if self.model is None or self.shown_state is None:
            return None
        h = self.model.hierarchy
        chain = [h.alias.get(node_id, node_id), *h.ancestors(node_id)]
        top = chain[-2] if len(chain) >= 2 else chain[0]
        return self.model.visible.representative(top, self.shown_state)

    def center_current(self) -> None:
        rect = self._current_rect()
        if rect is not None:
            self.view.centerOn(rect.center())

    # -- layout requests ---

    def _run(self, fn: Callable, on_done: Callable) -> None:
        self._busy_timer.start()  # "laying out…" appears only if it takes a while
        worker = create_worker(fn, _start_thread=False)
        self._workers.add(worker)
        worker.returned.connect(on_done)
        worker.errored.connect(self._on_worker_error)
        worker.finished.connect(lambda: self._workers.discard(worker))
        worker.start()

    def _worker_done(self, generation: int) -> bool:
        """A worker finished: False (and the next request starts) when its trace was replaced."""
        self._busy = False
        self.busy_label.hide()
        if generation != self._generation:
            self._start_pending()
            return False
        return True

    def _on_worker_error(self, error: Exception) -> None:
        self._busy = False
        self.busy_label.hide()
        self.search_status.setText("layout failed")
        self.search_status.setToolTip(plain_tooltip(f"{type(error).__name__}: {error}"))
        self._start_pending()

    def _request_layout(
        self,
        anchor: str | None = None,
        after: Callable[[], None] | None = None,
        follow_current: bool = False,
    ) -> None:
        if self.model is None:
            return
        if follow_current:
            after = self._after_follow
        self._pending = (anchor, after)
        if not self._busy:
            self._start_pending()

    def _start_pending(self) -> None:
        if self._pending is None or self.model is None or self._busy:
            return
        anchor, after = self._pending
        self._pending = None
        self._busy = True
        model, generation = self.model, self._generation
        state = model.expansion.snapshot()
        self._run(
            lambda: model.engine.layout(state),
            lambda layout: self._on_layout_done(generation, state, layout, anchor, after),
        )

    def _on_layout_done(
        self,
        generation: int,
        state: ViewState,
        layout: GroupLayout,
        anchor: str | None,
        after: Callable[[], None] | None,
    ) -> None:
        if not self._worker_done(generation):
            return
        before = self.scene.item_rect(anchor) if anchor else None
        self._show(layout, state)
        if before is not None and anchor is not None:
            now_id = anchor if anchor in self.scene.items_by_id else None
            if now_id is None and self.model is not None:
                now_id = self._root_level_of(self.current_node() or anchor)
            now = self.scene.item_rect(now_id) if now_id else None
            if now is not None:
                self.view.keep_anchor(before.topLeft(), now.topLeft())
        if after is not None:
            after()
        else:
            self._mark_current(scroll=False)
        self.sig_layout_applied.emit()
        self._start_pending()

    def _after_follow(self) -> None:
        self._mark_current(scroll=True)

    def _show(self, layout: GroupLayout, state: ViewState) -> None:
        self.shown_state = state
        self.scene.apply(layout)
        # room to pan past the edges; the rect only grows (each change rebuilds Qt's index)
        margin = max(self.view.width(), self.view.height(), 400) * 2
        wanted = QRectF(0, 0, layout.width, layout.height).adjusted(
            -margin, -margin, margin, margin
        )
        current = self.scene.sceneRect()
        if not self._scene_rect_set or not current.contains(wanted):
            self.scene.setSceneRect(wanted.united(current) if self._scene_rect_set else wanted)
            self._scene_rect_set = True

    def is_busy(self) -> bool:
        """True while a layout is being computed (tests and benchmarks wait for it)."""
        return self._busy or self._pending is not None or self._scroll.pending

    # -- user actions ---

    def content_rect(self) -> QRectF:
        layout = self.scene.layout
        return QRectF(0, 0, layout.width, layout.height) if layout else QRectF()

    def fit(self) -> None:
        self.view.fit(self.content_rect())

    def _on_zoom_changed(self, zoom: float) -> None:
        self.scene.set_detail(zoom >= CONTENT_ZOOM)

    def _on_follow_toggled(self, on: bool) -> None:
        self.follow = on
        if on:
            self._mark_current(scroll=True, follow=True)

    def _on_node_clicked(self, node_id: str) -> None:
        if self.model is None:
            return
        node = self.model.hierarchy.nodes.get(node_id)
        if node is not None and node.kind == "op" and node.seq >= 0:
            self.session.go_to(node.seq)
        else:
            self.scene.set_selected(node_id)

    def _on_node_toggled(self, node_id: str) -> None:
        if self.model is None:
            return
        if self.model.expansion.toggle(node_id):
            self._request_layout(anchor=node_id)

    def expand(self, node_id: str) -> None:
        """Open a group (or unfold a series) and lay out the result."""
        if self.model is not None and self.model.expansion.expand(node_id):
            self._request_layout(anchor=node_id)

    def collapse(self, node_id: str) -> None:
        if self.model is not None and self.model.expansion.collapse(node_id):
            self._request_layout(anchor=node_id)

    def collapse_all(self) -> None:
        if self.model is None:
            return
        self.model.expansion.set_depth(0)
        self.model.expansion.unfolded.clear()
        self._request_layout(after=self._after_collapse_all)

    def open_next_level(self) -> None:
        """Open every closed group whose parent is open (one level deeper everywhere)."""
        if self.model is None or self.shown_state is None:
            return
        visible, state = self.model.visible, self.shown_state
        opened = False
        stack = ["root"]
        while stack:
            for child in visible.children(stack.pop(), state):
                if child in visible.series:
                    continue
                if visible.is_expanded(child, state):
                    stack.append(child)
                elif self.model.expansion.expand(child):
                    opened = True
        if opened:
            self._request_layout()

    def unfold_all(self) -> None:
        """Show every repeated block on its own (no "×N" series)."""
        if self.model is not None:
            self.model.expansion.unfold_all()
            self._request_layout()

    def fold_all(self) -> None:
        """Fold every run of repeated blocks back into one "×N" node."""
        if self.model is not None:
            self.model.expansion.unfolded.clear()
            self._request_layout()

    def _after_collapse_all(self) -> None:
        self.fit()
        self._mark_current(scroll=False)

    def _on_node_menu(self, node_id: str, screen_pos: QPointF) -> None:
        if self.model is None:
            return
        menu = self._node_menu(node_id)
        if not menu.isEmpty():
            menu.exec(screen_pos.toPoint())

    def _node_menu(self, node_id: str) -> QMenu:
        model = self.model
        menu = QMenu(self)
        h, visible, expansion = model.hierarchy, model.visible, model.expansion
        series = visible.series.get(node_id)
        node = h.nodes.get(node_id)

        def add(text: str, slot: Callable[[], None]) -> QAction:
            action = menu.addAction(text)
            action.triggered.connect(slot)
            return action

        if series is not None:
            add(f"Unfold {len(series.members)} blocks", lambda: self.expand(node_id))
            first = h.nodes[series.members[0]]
            add("Go to first op", lambda: self.session.go_to(first.seq))
            return menu
        if node is None:
            return menu
        if node.expandable:
            if expansion.is_expanded(node_id):
                add("Collapse", lambda: self.collapse(node_id))
            else:
                add("Expand", lambda: self.expand(node_id))
        if node_id in h.run_of and node_id in expansion.unfolded:
            add("Fold repeated blocks", lambda: self._fold(node_id))
        if node.seq >= 0:
            add(
                "Go to first op" if node.is_group else "Go to this op",
                lambda: self.session.go_to(node.seq),
            )
        if node.is_group and node.module_path:
            add("Copy module path", lambda: QGuiApplication.clipboard().setText(node.module_path))
        return menu

    def _fold(self, member: str) -> None:
        if self.model is not None and self.model.expansion.fold_run(member):
            self._request_layout()

    # -- search ---

    def _on_search_text_changed(self, text: str) -> None:
        self._search_hits = []
        self._search_index = -1
        self.search_status.setText("")

    def search_next(self) -> None:
        """Jump to the next node matching the search box (opening what hides it)."""
        self._search_step(+1)

    def search_previous(self) -> None:
        self._search_step(-1)

    def _search_step(self, step: int) -> None:
        if self.model is None:
            return
        text = self.search_box.text()
        if text != self._search_text or not self._search_hits:
            self._search_text = text
            self._search_hits = search(self.model.hierarchy, text)
            self._search_index = -1 if step > 0 else 0
        if not self._search_hits:
            self.search_status.setText("no match" if text.strip() else "")
            return
        self._search_index = (self._search_index + step) % len(self._search_hits)
        self.search_status.setText(f"{self._search_index + 1}/{len(self._search_hits)}")
        self.reveal(self._search_hits[self._search_index])

    def reveal(self, node_id: str) -> None:
        """Open what hides ``node_id``, then select it and bring it into view."""
        if self.model is None:
            return

        def show() -> None:
            shown = self.model.visible.representative(node_id, self.shown_state)
            self.scene.set_selected(shown)
            rect = self.scene.item_rect(shown)
            self._mark_current(scroll=False)
            if rect is not None:
                self.view.ensure_shown(rect)

        if self.model.expansion.reveal(node_id):
            self._request_layout(after=show)
        else:
            show()

    # -- export ---

    def export_graph_dialog(self) -> None:
        """File → Export Graph: choose a file and options, then write SVG or PNG."""
        from gui.graph.export_dialog import run_export_dialog

        run_export_dialog(self)

    # -- palette ---

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            style = app_style()
            if style.palette is not self.graph_style.palette:
                self.graph_style = style
                self.scene.set_style(style)
        super().changeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Find):
            self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.search_box.selectAll()
            return
        super().keyPressEvent(event)


def _preview(argv: list[str] | None = None) -> int:
    """``python -m gui.graph.panel [trace] [--goto SEQ] [--screenshot out.png]``: the panel
    alone on a trace (a synthetic one by default), following a minimal session."""
    import argparse
    import sys
    import tempfile

    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    import tracing

    parser = argparse.ArgumentParser(prog="python -m gui.graph.panel")
    parser.add_argument("trace", nargs="?", help="a .opscope file (default: a synthetic one)")
    parser.add_argument("--goto", type=int, default=None, help="op seq to make current")
    parser.add_argument("--screenshot", default=None, help="save a PNG of the panel and exit")
    parser.add_argument("--size", default="1100x800", help="window size, WxH")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    path = args.trace
    if path is None:
        from tracing.synthetic import write_synthetic_trace

        path = write_synthetic_trace(
            tempfile.mkdtemp() + "/preview.opscope", blocks=12, nan_block=7
        )

    class PreviewSession(QObject):
        sig_trace_loaded = Signal()
        sig_current_op_changed = Signal(int)

        def __init__(self, trace) -> None:
            super().__init__()
            self.trace = trace
            self.index = 0

        @property
        def current(self):
            return self.trace.ops[self.index] if self.trace.ops else None

        def go_to(self, seq: int) -> None:
            self.index = seq
            self.sig_current_op_changed.emit(seq)

    session = PreviewSession(tracing.load(path))
    panel = GraphPanel(session)
    width, height = (int(v) for v in args.size.lower().split("x"))
    panel.resize(width, height)
    panel.show()

    def when_idle(then: Callable[[], None]) -> None:
        if panel.model is None or panel.is_busy():
            QTimer.singleShot(20, lambda: when_idle(then))
        else:
            then()

    def shoot() -> None:
        panel.grab().save(args.screenshot)
        app.quit()

    def start() -> None:
        if args.goto is not None:
            session.go_to(args.goto)
        if args.screenshot:
            when_idle(shoot)

    when_idle(start)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(_preview())
