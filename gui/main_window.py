"""The main window: dockable panels around one ``DebugSession``, menus, toolbar, status bar.

The window owns the session and the panels; panels only listen to the session. The window
itself opens files, shows errors and keeps the actions' enabled state up to date.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QWidget,
)
from superqt.utils import create_worker

import tracing
from gui import actions as action_table
from gui.actions import ActionId
from gui.dialogs import ShortcutsDialog, error_box
from gui.formatting import format_location, plain_tooltip
from gui.panels.breakpoints import BreakpointsPanel
from gui.panels.call_stack import CallStackPanel
from gui.panels.source_view import SourcePanel
from gui.panels.static_label import StaticLabel
from gui.panels.tensor_inspector import TensorInspectorPanel
from gui.panels.timeline import TimelinePanel
from gui.recent_files import RecentFiles
from gui.session import DebugSession
from gui.stepping import Timeline
from gui.theme import THEME_MODES, apply_theme, colors
from tracing.errors import TraceFileError

TRACE_FILTER = "OpScope traces (*.opscope);;All files (*)"
DEFAULT_SIZE = (1600, 1000)
STATE_VERSION = 1
GRAPH_PANEL_MODULE = "gui.graph.panel"

STYLE_SHEET = """
QDockWidget::title { text-align: left; padding: 5px 8px; background: palette(window);
                     border-bottom: 1px solid palette(mid); }
QToolBar { border: none; spacing: 2px; padding: 2px 6px; }
QStatusBar QLabel { padding: 0 10px; }
QTabWidget::pane { border: none; }
QLabel#field_caption { color: palette(placeholder-text); }
"""


def graph_panel_available() -> bool:
    """True when the graph panel (``gui.graph.panel``) is part of this build."""
    try:
        return importlib.util.find_spec(GRAPH_PANEL_MODULE) is not None
    except ModuleNotFoundError:
        return False


class MainWindow(QMainWindow):
    """OpScope's debugger window."""

    def __init__(
        self,
        session: DebugSession | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("opscope_main_window")
        self.session = session if session is not None else DebugSession(parent=self)
        self.settings = settings if settings is not None else QSettings("OpScope", "OpScope")
        self.recent = RecentFiles(self.settings)
        self.trace_path: Path | None = None
        self.last_error: str | None = None
        """The text of the last error shown (tests read it instead of the dialog)."""
        self.error_dialog: QMessageBox | None = None
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self._restyling = False
        self._loading = False
        self._load_generation = 0
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.setStyleSheet(STYLE_SHEET)
        central = QWidget()
        central.hide()  # every panel is a dock; a hidden centre lets them fill the window
        self.setCentralWidget(central)

        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._build_panels()
        self.commands = action_table.create_actions(self, self._handlers(), self.palette())
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._arrange_default_layout()
        self._default_state = self.saveState(STATE_VERSION)
        self._sized = False

        self.session.sig_trace_loaded.connect(self._on_trace_loaded)
        self.session.sig_current_op_changed.connect(self._on_current_op_changed)
        self.session.sig_breakpoints_changed.connect(self._update_actions)
        self._on_trace_loaded()
        self._on_current_op_changed(self.session.index)
        self.resize(*DEFAULT_SIZE)

    # -- construction ---

    def _build_panels(self) -> None:
        session = self.session
        self.timeline = TimelinePanel(session)
        self.source = SourcePanel(session)
        self.inspector = TensorInspectorPanel(session)
        self.call_stack = CallStackPanel(session)
        self.breakpoints = BreakpointsPanel(session)
        self.graph: QWidget | None = None
        if graph_panel_available():
            from gui.graph.panel import GraphPanel

            self.graph = GraphPanel(session)
        specs = [
            ("call_stack", "CALL STACK", self.call_stack),
            ("breakpoints", "BREAKPOINTS", self.breakpoints),
            ("graph", "GRAPH", self.graph),
            ("source", "SOURCE", self.source),
            ("inspector", "TENSOR", self.inspector),
            ("timeline", "TIMELINE", self.timeline),
        ]
        for name, title, widget in specs:
            if widget is None:
                continue
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetClosable
                | QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            dock.toggleViewAction().setText(title.title())
            self.panels[name] = widget
            self.docks[name] = dock

    def _arrange_default_layout(self) -> None:
        # Every dock shares one dock area, split into columns: within one area Qt resizes
        # nested docks reliably (resizeDocks), which it does not across areas when the centre
        # is empty. Columns: call stack over breakpoints | graph and source over the timeline |
        # tensor inspector.
        area = Qt.DockWidgetArea
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        docks = self.docks
        first_center = docks.get("graph", docks["source"])
        self.addDockWidget(area.LeftDockWidgetArea, docks["call_stack"])
        self.splitDockWidget(docks["call_stack"], first_center, horizontal)
        self.splitDockWidget(first_center, docks["inspector"], horizontal)
        self.splitDockWidget(first_center, docks["timeline"], vertical)
        if first_center is not docks["source"]:
            self.splitDockWidget(first_center, docks["source"], horizontal)
        self.splitDockWidget(docks["call_stack"], docks["breakpoints"], vertical)

    def apply_default_sizes(self) -> None:
        """Give the docks their default share of the window (called once shown, and on reset)."""
        docks = self.docks
        width, height = max(self.width(), 800), max(self.height(), 600)
        # the side columns keep a readable width; the centre (graph, source) gets the rest
        side = min(300, max(200, int(width * 0.16)))
        inspector = min(420, max(290, int(width * 0.22)))
        center = width - side - inspector
        self.resizeDocks(
            [docks["call_stack"], docks["timeline"], docks["inspector"]],
            [side, center, inspector],
            Qt.Orientation.Horizontal,
        )
        if "graph" in docks:
            graph = int(center * 0.46)  # source lines need the width more than the graph
            self.resizeDocks(
                [docks["graph"], docks["source"]],
                [graph, center - graph],
                Qt.Orientation.Horizontal,
            )
        top = docks.get("graph", docks["source"])
        self.resizeDocks(
            [top, docks["timeline"]],
            [int(height * 0.56), int(height * 0.34)],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks(
            [docks["call_stack"], docks["breakpoints"]],
            [int(height * 0.5), int(height * 0.4)],
            Qt.Orientation.Vertical,
        )

    def _handlers(self) -> dict[str, object]:
        session = self.session
        return {
            ActionId.OPEN: self.open_dialog,
            ActionId.RELOAD: lambda: self.reload(background=True),
            ActionId.EXPORT_GRAPH: self.export_graph,
            ActionId.QUIT: self.close,
            ActionId.CONTINUE: session.continue_,
            ActionId.STEP_OVER: session.step_over,
            ActionId.STEP_INTO: session.step,
            ActionId.STEP_OUT: session.step_out,
            ActionId.STEP_BACK: session.step_back,
            ActionId.RUN_TO_NONFINITE: session.run_to_nonfinite,
            ActionId.RESTART: session.restart,
            ActionId.TOGGLE_BREAKPOINT: self.source.toggle_breakpoint_at_caret,
            ActionId.BREAK_ON_NONFINITE: session.set_break_on_nonfinite,
            ActionId.CLEAR_BREAKPOINTS: session.clear_all_breakpoints,
            ActionId.GO_TO_OP: self.go_to_op_dialog,
            ActionId.RESET_LAYOUT: self.reset_layout,
            ActionId.SHORTCUTS: self.show_shortcuts,
            ActionId.ABOUT: self.show_about,
        }

    def _build_menus(self) -> None:
        bar = self.menuBar()
        menus = {name: bar.addMenu(f"&{name}") for name in ("File", "Debug", "View", "Help")}
        self.recent_menu = None
        for spec in action_table.ACTIONS:
            menu = menus[spec.menu]
            if spec.id == ActionId.RELOAD:
                self.recent_menu = menu.addMenu("Open &Recent")
                self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
            if spec.id in (ActionId.QUIT, ActionId.TOGGLE_BREAKPOINT, ActionId.GO_TO_OP):
                menu.addSeparator()
            if spec.id == ActionId.RESET_LAYOUT:
                for dock in self.docks.values():
                    menu.addAction(dock.toggleViewAction())
                menu.addSeparator()
                self._build_theme_menu(menu)
            menu.addAction(self.commands[spec.id])
            self.addAction(self.commands[spec.id])  # keys work even with the menu bar hidden
        self._fill_recent_menu()

    def _build_theme_menu(self, view_menu: object) -> None:
        menu = view_menu.addMenu("&Theme")  # type: ignore[attr-defined]
        group = QActionGroup(self)
        chosen = str(self.settings.value("theme", "system"))
        self.theme_actions: dict[str, QAction] = {}
        for mode in THEME_MODES:
            action = QAction(mode.title(), self, checkable=True)
            action.setChecked(mode == chosen)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_theme(m))
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[mode] = action
        view_menu.addSeparator()  # type: ignore[attr-defined]

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Debug", self)
        toolbar.setObjectName("debug_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.addAction(self.commands[ActionId.OPEN])
        toolbar.addSeparator()
        for spec in action_table.ACTIONS:
            if spec.toolbar:
                if spec.id == ActionId.BREAK_ON_NONFINITE:
                    toolbar.addSeparator()
                toolbar.addAction(self.commands[spec.id])
        self.debug_toolbar = toolbar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_position = StaticLabel("op 000,000 / 000,000")
        self.status_position.setObjectName("status_position")
        self.status_module = StaticLabel("layers.00.attention.q_proj")
        self.status_module.setObjectName("status_module")
        self.status_location = StaticLabel(
            "a_long_file_name.py:0000", align=Qt.AlignmentFlag.AlignRight
        )
        self.status_location.setObjectName("status_location")
        self.status_nonfinite = StaticLabel("⚠ NaN/Inf output", bold=True)
        self.status_nonfinite.setObjectName("status_nonfinite")
        bar.addWidget(self.status_position)
        bar.addWidget(self.status_module, 1)
        bar.addPermanentWidget(self.status_nonfinite)
        bar.addPermanentWidget(self.status_location)
        self.load_progress = QProgressBar()
        """Shown while a trace is read in the background (busy: the reader gives no count)."""
        self.load_progress.setObjectName("load_progress")
        self.load_progress.setRange(0, 0)
        self.load_progress.setMaximumWidth(160)
        self.load_progress.setMaximumHeight(14)
        self.load_progress.setTextVisible(False)
        self.load_progress.hide()
        bar.addPermanentWidget(self.load_progress)

    # -- session events ---

    def _on_trace_loaded(self) -> None:
        trace = self.session.trace
        if trace is None:
            self.setWindowTitle("OpScope")
        else:
            note = "" if trace.meta.complete else " (recording incomplete)"
            self.setWindowTitle(f"{trace.path.name}{note} — OpScope")
        self._update_actions()

    def _on_current_op_changed(self, _seq: int) -> None:
        session = self.session
        op = session.current
        if op is None:
            text = "no trace" if session.trace is None else "no ops in this trace"
            self.status_position.setText(text)
            self.status_module.setText("")
            self.status_location.setText("")
            self.status_nonfinite.setText("")
        else:
            self.status_position.setText(f"op {op.seq:,} / {session.op_count:,}")
            self.status_position.setToolTip(
                f"op {op.seq} (ops are numbered from 0; this trace has {session.op_count:,})"
            )
            self.status_module.setText(op.module_path or "(top level)")
            self.status_location.setText(format_location(op))
            self.status_location.setToolTip(plain_tooltip(op.location))
            self.status_nonfinite.set_color(colors(self.palette()).nonfinite)
            self.status_nonfinite.setText("⚠ NaN/Inf output" if op.nonfinite else "")
        self._update_actions()

    def _update_actions(self) -> None:
        action_table.update_actions(
            self.commands, self.session, graph_available=self.graph is not None
        )

    # -- files ---

    def open_trace(
        self,
        path: str | os.PathLike[str],
        *,
        background: bool = False,
        keep: bool = False,
        then: Callable[[bool], None] | None = None,
    ) -> bool:
        """Open the trace at ``path``; on failure show an error and keep the current trace.

        With ``background`` the file is read in a worker thread: the window stays responsive
        and shows a busy bar (``is_busy()`` is True until the trace is shown), and the return
        value only says that reading started. ``keep`` keeps the cursor (Reload); ``then`` is
        called with True once the trace is shown, or with False when it could not be.
        """
        path = Path(path)
        self._load_generation += 1
        generation = self._load_generation
        if not background:
            self._set_loading(None)
            return self._on_loaded(_load_trace(path), path, generation, keep, then)
        self._set_loading(path)
        create_worker(
            _load_trace,
            path,
            _connect={
                "returned": lambda result: self._on_loaded(result, path, generation, keep, then)
            },
        )
        return True

    def _set_loading(self, path: Path | None) -> None:
        """Show (a path) or hide (None) that a trace is being read."""
        self._loading = path is not None
        self.load_progress.setVisible(path is not None)
        if path is None:
            self.statusBar().clearMessage()
            self._on_trace_loaded()  # the title names the trace shown again
            return
        self.statusBar().showMessage(f"Opening {path.name}{_size_note(path)}…")
        self.setWindowTitle(f"Opening {path.name}… — OpScope")

    def _on_loaded(
        self,
        result: tuple[tracing.Trace, Timeline] | _LoadFailure,
        path: Path,
        generation: int,
        keep: bool = False,
        then: Callable[[bool], None] | None = None,
    ) -> bool:
        if generation != self._load_generation:  # a later open replaced this one
            if isinstance(result, tuple):
                result[0].close()
            return False
        self._set_loading(None)
        if isinstance(result, _LoadFailure):
            result = result.error
        shown = False
        if isinstance(result, TraceFileError):
            self.show_error("Cannot open trace", str(result))
            self._forget_if_gone(path)
        elif isinstance(result, BaseException):  # the window must survive any file
            details = "".join(traceback.format_exception(result))
            self.show_error(
                "Cannot open trace",
                f"{path}: unexpected {type(result).__name__}: {result}",
                details,
            )
        else:
            trace, timeline = result
            shown = self.set_trace(trace, path, keep=keep, timeline=timeline)
        if then is not None:
            then(shown)
        return shown

    def _forget_if_gone(self, path: Path) -> None:
        """Drop a recent-files entry whose file no longer exists (any path may come here: a
        symlink loop, a name too long for the system or one holding a NUL must not raise)."""
        try:
            if not path.exists():
                self.recent.remove(str(path.resolve()))
        except (OSError, ValueError, RuntimeError):
            self.recent.remove(str(path))

    def set_trace(
        self,
        trace: tracing.Trace,
        path: str | os.PathLike[str] | None = None,
        *,
        keep: bool = False,
        timeline: Timeline | None = None,
    ) -> bool:
        """Show an already loaded trace (``keep`` keeps the cursor position, for Reload;
        ``timeline``: its stepping index, when built already)."""
        previous = self.session.trace
        try:
            self.session.load(trace, keep_position=keep, timeline=timeline)
        except Exception as exc:
            self.show_error(
                "Cannot show trace",
                f"{trace.path}: {type(exc).__name__}: {exc}",
                traceback.format_exc(),
            )
            return False
        if previous is not None and previous is not trace:
            previous.close()  # an open reader would keep a live recording from finishing
        self.trace_path = Path(path) if path is not None else trace.path
        self.recent.add(self.trace_path)
        self._fill_recent_menu()
        return True

    def reload(self, *, background: bool = False) -> bool:
        """Read the current trace file again, keeping the cursor and the breakpoints (a trace
        still being written shows its newest ops). ``background``: as in ``open_trace``."""
        if self.trace_path is None:
            return False
        return self.open_trace(self.trace_path, background=background, keep=True)

    def open_dialog(self) -> None:
        """File → Open."""
        start = str(self.trace_path.parent) if self.trace_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open Trace", start, TRACE_FILTER)
        if path:
            self.open_trace(path, background=True)

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = menu.addAction(path)
            action.triggered.connect(
                lambda _checked=False, p=path: self.open_trace(p, background=True)
            )
        if paths:
            menu.addSeparator()
            menu.addAction("Clear Recent", self._clear_recent)
        else:
            menu.addAction("(no recent traces)").setEnabled(False)

    def _clear_recent(self) -> None:
        self.recent.clear()
        self._fill_recent_menu()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_trace(files[0], background=True)

    # -- other commands ---

    def show_error(self, title: str, text: str, details: str = "") -> None:
        """Show an error without blocking; the window stays usable."""
        self.last_error = text
        print(f"opscope: {text}", file=sys.stderr)
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.error_dialog = error_box(self, title, text, details)
        self.error_dialog.destroyed.connect(self._forget_error_dialog)

    def _forget_error_dialog(self) -> None:
        self.error_dialog = None

    def export_graph(self) -> None:
        """File → Export Graph (the graph panel's dialog)."""
        if self.graph is not None and hasattr(self.graph, "export_graph_dialog"):
            self.graph.export_graph_dialog()

    def go_to_op_dialog(self) -> None:
        """Debug → Go to Op."""
        count = self.session.op_count
        if not count:
            return
        seq, ok = QInputDialog.getInt(
            self,
            "Go to Op",
            f"Op number (0–{count - 1}):",
            max(self.session.index, 0),
            0,
            count - 1,
        )
        if ok:
            self.session.go_to(seq)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help → Keyboard Shortcuts (non-modal)."""
        if self._shortcuts_dialog is None:
            self._shortcuts_dialog = ShortcutsDialog(self)
        self._shortcuts_dialog.show()
        self._shortcuts_dialog.raise_()
        return self._shortcuts_dialog

    def show_about(self) -> None:
        """Help → About."""
        box = QMessageBox(self)
        box.setWindowTitle("About OpScope")
        box.setText(f"<b>OpScope {tracing.__version__}</b>")
        box.setInformativeText(
            "Record what a PyTorch or TensorFlow program executed, op by op, and step through "
            "it like a program in a debugger."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def set_theme(self, mode: str) -> None:
        """View → Theme: ``system``, ``light`` or ``dark`` (remembered)."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, mode)  # type: ignore[arg-type]
        self.settings.setValue("theme", mode)
        if mode in getattr(self, "theme_actions", {}):
            self.theme_actions[mode].setChecked(True)

    def reset_layout(self) -> None:
        """View → Reset Layout."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, STATE_VERSION)
        self.apply_default_sizes()

    def restore_layout(self) -> None:
        """Bring back the window size and dock layout saved at the last exit."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION):
            self._sized = True
        self._persist_layout = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            self.apply_default_sizes()

    def is_busy(self) -> bool:
        """True while a trace is being opened or a panel works in the background."""
        if self._loading:
            return True
        for panel in self.panels.values():
            busy = getattr(panel, "is_busy", None)
            if callable(busy) and busy():
                return True
            if getattr(panel, "busy", False) is True:
                return True
        return False

    def changeEvent(self, event: QEvent) -> None:
        if (
            event.type() == QEvent.Type.PaletteChange
            and hasattr(self, "commands")
            and not self._restyling
        ):
            # Widgets polished under a style sheet keep their old palette until it is
            # re-applied; re-applying it inside the palette change itself crashed Qt 6.12 when
            # the window had not been shown yet, so it waits for the event loop.
            QTimer.singleShot(0, self._restyle)
        super().changeEvent(event)

    def _restyle(self) -> None:
        self._restyling = True
        try:
            self.setStyleSheet("")
            self.setStyleSheet(STYLE_SHEET)
        finally:
            self._restyling = False
        action_table.refresh_icons(self.commands, self.palette())
        self._on_current_op_changed(self.session.index)

    def closeEvent(self, event: QCloseEvent) -> None:
        if getattr(self, "_persist_layout", False):
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState(STATE_VERSION))
        super().closeEvent(event)


@dataclass(frozen=True)
class _LoadFailure:
    """What a failed load hands back (a worker re-raises returned exceptions, so wrap it)."""

    error: Exception


def _load_trace(path: Path) -> tuple[tracing.Trace, Timeline] | _LoadFailure:
    """``tracing.load(path)`` and the trace's stepping index, or the failure it raised."""
    try:
        trace = tracing.load(path)
    except Exception as exc:
        return _LoadFailure(exc)
    try:
        return trace, Timeline.from_trace(trace)
    except Exception as exc:
        trace.close()
        return _LoadFailure(exc)


def _size_note(path: Path) -> str:
    """`` (6.1 MB)`` for files big enough to take a while, else nothing."""
    try:
        size = path.stat().st_size
    except (OSError, ValueError):
        return ""
    return f" ({size / 1e6:.1f} MB)" if size >= 1_000_000 else ""
