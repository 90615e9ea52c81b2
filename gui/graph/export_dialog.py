"""File → Export Graph: the options dialog and a progress dialog around ``export_graph`` (Qt)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from gui.graph.export import ExportError, ExportOptions, export_format, export_graph

if TYPE_CHECKING:
    from gui.graph.panel import GraphPanel

_STAGES = {"layout": (0.0, 0.45), "svg": (0.45, 0.75), "png": (0.75, 1.0)}


class ExportDialog(QDialog):
    """Options for one export; ``options()`` reads them back."""

    def __init__(self, panel: GraphPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.setWindowTitle("Export Graph")
        self.setMinimumWidth(520)
        form = QFormLayout(self)

        self.path_edit = QLineEdit(self)
        trace = getattr(panel.session, "trace", None)
        stem = Path(trace.path).stem if trace is not None else "graph"
        self.path_edit.setText(str(Path.cwd() / f"{stem}-graph.svg"))
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)

        self.whole = QRadioButton("Whole graph", self)
        self.current_view = QRadioButton("Current view", self)
        self.whole.setChecked(True)
        region = QButtonGroup(self)
        region.addButton(self.whole)
        region.addButton(self.current_view)
        row = QHBoxLayout()
        row.addWidget(self.whole)
        row.addWidget(self.current_view)
        row.addStretch(1)
        form.addRow("Region", row)

        self.depth = QComboBox(self)
        self.depth.addItem("As shown on screen", "shown")
        self.depth.addItem("Readable (automatic)", "auto")
        for level in range(0, 6):
            self.depth.addItem(f"{level} level{'s' if level != 1 else ''} open", level)
        self.depth.addItem("Everything open", None)
        self.depth.currentIndexChanged.connect(self._on_depth_changed)
        form.addRow("Modules", self.depth)

        self.module = QComboBox(self)
        self.module.setEditable(True)
        self.module.addItem("(whole model)", "")
        model = panel.model
        if model is not None:
            paths = sorted(
                {
                    n.module_path
                    for n in model.hierarchy.nodes.values()
                    if n.kind == "group" and n.module_path
                }
            )
            for path in paths[:2000]:
                self.module.addItem(path, path)
        form.addRow("Subgraph", self.module)

        self.style_box = QComboBox(self)
        self.style_box.addItem("Light", "light")
        self.style_box.addItem("Dark", "dark")
        if panel.graph_style.palette.name == "dark":
            self.style_box.setCurrentIndex(1)
        form.addRow("Style", self.style_box)

        self.scale = QDoubleSpinBox(self)
        self.scale.setRange(0.25, 16.0)
        self.scale.setSingleStep(0.5)
        self.scale.setValue(2.0)
        self.scale.setSuffix(" ×")
        self.dpi = QSpinBox(self)
        self.dpi.setRange(24, 2400)
        self.dpi.setValue(192)
        self.dpi.setSuffix(" dpi")
        self.scale.valueChanged.connect(lambda v: self._sync(self.dpi, round(v * 96)))
        self.dpi.valueChanged.connect(lambda v: self._sync(self.scale, v / 96))
        row = QHBoxLayout()
        row.addWidget(self.scale)
        row.addWidget(self.dpi)
        self.png_row = QWidget(self)
        self.png_row.setLayout(row)
        form.addRow("PNG size", self.png_row)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.path_edit.textChanged.connect(self._on_path_changed)
        self._on_path_changed(self.path_edit.text())

    @staticmethod
    def _sync(widget, value) -> None:
        widget.blockSignals(True)
        widget.setValue(value)
        widget.blockSignals(False)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export Graph", self.path_edit.text(), "SVG image (*.svg);;PNG image (*.png)"
        )
        if path:
            self.path_edit.setText(path)

    def _on_path_changed(self, text: str) -> None:
        self.png_row.setEnabled(text.lower().endswith(".png"))

    def _on_depth_changed(self) -> None:
        shown = self.depth.currentData() == "shown"
        self.current_view.setEnabled(shown)
        if not shown:
            self.whole.setChecked(True)

    def _accept(self) -> None:
        try:
            export_format(self.path_edit.text())
        except ExportError as error:
            _warn(self, str(error))
            return
        self.accept()

    def options(self) -> ExportOptions:
        panel = self.panel
        depth = self.depth.currentData()
        module = self.module.currentData() or self.module.currentText().strip()
        if module == "(whole model)":
            module = ""
        view = None
        state = None
        if depth == "shown" and not module:
            state = panel.shown_state
            if self.current_view.isChecked():
                rect = panel.view.visible_scene_rect().intersected(panel.content_rect())
                view = (rect.x(), rect.y(), rect.width(), rect.height())
        current = getattr(panel.session, "current", None)
        return ExportOptions(
            path=Path(self.path_edit.text()).expanduser(),
            depth="auto" if depth == "shown" else depth,
            module=module or None,
            style=self.style_box.currentData(),
            scale=self.scale.value(),
            state=state,
            view=view,
            current_seq=current.seq if current is not None and state is not None else None,
        )


def _warn(parent: QWidget, text: str) -> None:
    """A modal warning whose text (paths, module names from the trace) shows as written."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "Export Graph", text, QMessageBox.StandardButton.Ok, parent
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def run_export_dialog(panel: GraphPanel) -> None:
    """Ask for options, export with a progress dialog, report errors in a message box."""
    if panel.model is None:
        QMessageBox.information(panel, "Export Graph", "Open a trace first.")
        return
    dialog = ExportDialog(panel)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    export_with_progress(panel, dialog.options())


def export_with_progress(panel: GraphPanel, options: ExportOptions) -> bool:
    """Export on the UI thread with a cancel-less progress dialog; True on success."""
    progress = QProgressDialog("Exporting graph…", "", 0, 100, panel)
    progress.setWindowTitle("Export Graph")
    progress.setCancelButton(None)
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(400)

    def report(stage: str, fraction: float) -> None:
        low, high = _STAGES.get(stage, (0.0, 1.0))
        progress.setLabelText(f"Exporting graph: {stage}…")
        progress.setValue(round(100 * (low + (high - low) * fraction)))
        QApplication.processEvents()

    try:
        export_graph(panel.model, options, report)
    except ExportError as error:
        progress.close()
        _warn(panel, str(error))
        return False
    progress.setValue(100)
    progress.close()
    return True
