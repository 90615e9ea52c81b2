"""Every command of the window in one table: id, text, keys, icon, menu and toolbar placement.

Menus, the toolbar, Help → Keyboard Shortcuts and the tests all refer to actions by id.
``create_actions`` builds the ``QAction`` objects once; ``update_actions`` is the only place
that enables or disables them, from the session's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette

from gui import icons
from gui.session import DebugSession


class ActionId:
    """Action ids (strings, so settings and tests can name them)."""

    OPEN = "open"
    RELOAD = "reload"
    EXPORT_GRAPH = "export_graph"
    QUIT = "quit"
    CONTINUE = "continue"
    STEP_OVER = "step_over"
    STEP_INTO = "step_into"
    STEP_OUT = "step_out"
    STEP_BACK = "step_back"
    RUN_TO_NONFINITE = "run_to_nonfinite"
    RESTART = "restart"
    TOGGLE_BREAKPOINT = "toggle_breakpoint"
    BREAK_ON_NONFINITE = "break_on_nonfinite"
    CLEAR_BREAKPOINTS = "clear_breakpoints"
    GO_TO_OP = "go_to_op"
    RESET_LAYOUT = "reset_layout"
    SHORTCUTS = "shortcuts"
    ABOUT = "about"


@dataclass(frozen=True)
class ActionSpec:
    """One command."""

    id: str
    text: str
    menu: str
    """``File``, ``Debug``, ``View`` or ``Help``."""
    shortcuts: tuple[str, ...] = ()
    icon: str | None = None
    tip: str = ""
    toolbar: bool = False
    checkable: bool = False
    step: str | None = None
    """For stepping commands: the ``DebugSession.target`` command that enables it."""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(ActionId.OPEN, "&Open Trace…", "File", ("Ctrl+O",), "open", "Open a trace file"),
    ActionSpec(
        ActionId.RELOAD,
        "&Reload",
        "File",
        ("Ctrl+R",),
        "reload",
        "Read the trace again (a trace still being written shows its newest ops)",
    ),
    ActionSpec(
        ActionId.EXPORT_GRAPH,
        "&Export Graph…",
        "File",
        ("Ctrl+E",),
        "export",
        "Save the graph as SVG or PNG",
    ),
    ActionSpec(ActionId.QUIT, "&Quit", "File", ("Ctrl+Q",)),
    ActionSpec(
        ActionId.CONTINUE,
        "&Continue",
        "Debug",
        ("F5",),
        "continue",
        "Run to the next breakpoint, or to the end",
        toolbar=True,
        step="continue",
    ),
    ActionSpec(
        ActionId.STEP_OVER,
        "Step &Over",
        "Debug",
        ("F10",),
        "step_over",
        "Next line of the current module, running the modules it calls",
        toolbar=True,
        step="step_over",
    ),
    ActionSpec(
        ActionId.STEP_INTO,
        "Step &Into",
        "Debug",
        ("F11",),
        "step_into",
        "Next op, entering modules",
        toolbar=True,
        step="step",
    ),
    ActionSpec(
        ActionId.STEP_OUT,
        "Step O&ut",
        "Debug",
        ("Shift+F11",),
        "step_out",
        "First op after the current module call returns",
        toolbar=True,
        step="step_out",
    ),
    ActionSpec(
        ActionId.STEP_BACK,
        "Step &Back",
        "Debug",
        ("Shift+F10",),
        "step_back",
        "Previous op",
        toolbar=True,
        step="step_back",
    ),
    ActionSpec(
        ActionId.RUN_TO_NONFINITE,
        "Run to First &NaN/Inf",
        "Debug",
        ("Ctrl+Shift+N",),
        "run_to_nonfinite",
        "Go to the first op whose output holds NaN or Inf",
        toolbar=True,
        step="run_to_nonfinite",
    ),
    ActionSpec(
        ActionId.RESTART,
        "&Restart",
        "Debug",
        ("Ctrl+Shift+F5",),
        "restart",
        "Back to the first op",
        toolbar=True,
        step="restart",
    ),
    ActionSpec(
        ActionId.TOGGLE_BREAKPOINT,
        "Toggle &Breakpoint",
        "Debug",
        ("F9",),
        "breakpoint",
        "Set or clear a breakpoint on the source line under the caret",
    ),
    ActionSpec(
        ActionId.BREAK_ON_NONFINITE,
        "Break on NaN/&Inf",
        "Debug",
        (),
        "break_on_nonfinite",
        "Continue stops at every op whose output holds NaN or Inf",
        toolbar=True,
        checkable=True,
    ),
    ActionSpec(ActionId.CLEAR_BREAKPOINTS, "Remove &All Breakpoints", "Debug"),
    ActionSpec(ActionId.GO_TO_OP, "&Go to Op…", "Debug", ("Ctrl+G",), None, "Jump to an op"),
    ActionSpec(ActionId.RESET_LAYOUT, "&Reset Layout", "View"),
    ActionSpec(ActionId.SHORTCUTS, "&Keyboard Shortcuts", "Help", ("F1",), "keyboard"),
    ActionSpec(ActionId.ABOUT, "&About OpScope", "Help"),
)

SPECS: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}


def create_actions(
    parent: QObject, handlers: Mapping[str, Callable[[], object]], palette: QPalette
) -> dict[str, QAction]:
    """Build one ``QAction`` per spec, wired to ``handlers[id]`` (ids without one stay inert)."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        action = QAction(spec.text, parent)
        action.setObjectName(f"action_{spec.id}")
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = ", ".join(spec.shortcuts)
        tip = spec.tip or spec.text.replace("&", "").rstrip("…")
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.setCheckable(spec.checkable)
        if spec.id in handlers:
            handler = handlers[spec.id]
            if spec.checkable:
                action.toggled.connect(handler)
            else:
                action.triggered.connect(lambda _checked=False, h=handler: h())
        actions[spec.id] = action
    refresh_icons(actions, palette)
    return actions


def refresh_icons(actions: Mapping[str, QAction], palette: QPalette) -> None:
    """Recolour the icons for ``palette`` (after a light/dark switch)."""
    for spec in ACTIONS:
        if spec.icon and spec.id in actions:
            actions[spec.id].setIcon(icons.icon(spec.icon, palette))


def update_actions(
    actions: Mapping[str, QAction], session: DebugSession, *, graph_available: bool = False
) -> None:
    """Enable each action from the session's state: the one place that does so."""
    has_trace = session.trace is not None
    for spec in ACTIONS:
        action = actions.get(spec.id)
        if action is None:
            continue
        if spec.step is not None:
            enabled = session.target(spec.step) is not None
        elif spec.id == ActionId.EXPORT_GRAPH:
            enabled = has_trace and graph_available
        elif spec.id in (
            ActionId.RELOAD,
            ActionId.TOGGLE_BREAKPOINT,
            ActionId.GO_TO_OP,
            ActionId.BREAK_ON_NONFINITE,
        ):
            enabled = has_trace
        elif spec.id == ActionId.CLEAR_BREAKPOINTS:
            enabled = bool(session.breakpoints)
        else:
            enabled = True
        action.setEnabled(enabled)
    toggle = actions.get(ActionId.BREAK_ON_NONFINITE)
    if toggle is not None and toggle.isChecked() != session.break_on_nonfinite:
        toggle.blockSignals(True)
        toggle.setChecked(session.break_on_nonfinite)
        toggle.blockSignals(False)


def shortcut_rows() -> list[tuple[str, str, str]]:
    """``(menu, command, keys)`` for every action with keys, for Help → Keyboard Shortcuts."""
    return [
        (spec.menu, spec.text.replace("&", "").rstrip("…"), ", ".join(spec.shortcuts))
        for spec in ACTIONS
        if spec.shortcuts
    ]
