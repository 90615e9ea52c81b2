"""OpScope viewer: a PySide6 desktop debugger for recorded traces (never imports a framework)."""
