"""The graph panel of the OpScope debugger and graph export (see README.md in this folder).

Import the pieces you need from their modules (``gui.graph.panel.GraphPanel``,
``gui.graph.export.export_graph``, ``gui.graph.cli_export``); the pure modules load without Qt.
"""
