"""The graph viewport: wheel zoom under the mouse, drag to pan, fit, gentle follow (Qt)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

MIN_ZOOM = 0.02
MAX_ZOOM = 4.0


class GraphView(QGraphicsView):
    """A ``QGraphicsView`` tuned for big graphs."""

    sig_zoom_changed = Signal(float)
    """The zoom factor changed (1.0 = 100 %)."""

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    # -- zoom ---

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``factor`` (clamped), keeping ``anchor`` (scene point) under the mouse."""
        factor = min(MAX_ZOOM, max(MIN_ZOOM, factor))
        ratio = factor / self.zoom()
        if abs(ratio - 1.0) < 1e-6:
            return
        self.scale(ratio, ratio)
        self.sig_zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or delta == 0:
            super().wheelEvent(event)
            return
        self.set_zoom(self.zoom() * (1.0015**delta))
        event.accept()

    def fit(self, rect: QRectF | None = None, max_zoom: float = 1.0) -> None:
        """Show ``rect`` (the whole scene by default), never magnified past ``max_zoom``."""
        rect = rect or self.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-20, -20, 20, 20), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > max_zoom:
            self.set_zoom(max_zoom)
            self.centerOn(rect.center())
        self.sig_zoom_changed.emit(self.zoom())

    def show_start(self, rect: QRectF, focus: QRectF | None = None, min_zoom: float = 0.8) -> None:
        """The first view of a graph: all of it if that stays readable, else readable size at
        ``focus`` (the current op) or at the top of the graph."""
        self.fit(rect)
        if self.zoom() >= min_zoom:
            return
        self.set_zoom(min(1.0, max(min_zoom, self.zoom())))
        target = focus or rect
        if focus is None:
            view = self.visible_scene_rect()
            self.centerOn(QPointF(rect.center().x(), rect.top() + view.height() / 2 - 20))
        else:
            self.centerOn(target.center())

    # -- following ---

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def ensure_shown(self, rect: QRectF, margin: float = 24.0, lead: float = 0.3) -> bool:
        """Scroll so ``rect`` is inside the viewport, only when it is not; True if moved.

        Only the axis on which it left moves. Vertically it lands ``lead`` of the view away
        from the edge it left by, leaving room for the ops that follow it (the graph flows
        down), so stepping scrolls every few ops rather than on every other one.
        """
        view = self.visible_scene_rect()
        inner = view.adjusted(margin, margin, -margin, -margin)
        if inner.contains(rect):
            return False
        if self.zoom() < 0.35 and rect.width() * self.zoom() < 40:
            self.set_zoom(0.6)
            view = self.visible_scene_rect()
            inner = view.adjusted(margin, margin, -margin, -margin)
        zoom = self.zoom()
        dx = dy = 0.0
        if rect.left() < inner.left() or rect.right() > inner.right():
            dx = rect.center().x() - view.center().x()
        if rect.height() > inner.height():
            dy = rect.center().y() - view.center().y()
        elif rect.bottom() > inner.bottom():
            dy = rect.top() - (view.top() + view.height() * lead)
        elif rect.top() < inner.top():
            dy = rect.bottom() - (view.bottom() - view.height() * lead)
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        if dx:
            h.setValue(round(h.value() + dx * zoom))
        if dy:
            v.setValue(round(v.value() + dy * zoom))
        return bool(dx or dy)

    def keep_anchor(self, scene_before: QPointF, scene_after: QPointF) -> None:
        """Scroll so a point that moved from ``scene_before`` to ``scene_after`` stays put on
        screen (used after a relayout, so opening a group does not make the view jump)."""
        delta = scene_after - scene_before
        if abs(delta.x()) < 0.5 and abs(delta.y()) < 0.5:
            return
        zoom = self.zoom()
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(round(h.value() + delta.x() * zoom))
        v.setValue(round(v.value() + delta.y() * zoom))
