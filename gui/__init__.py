"""OpScope's desktop debugger: open a trace and step through it like a program.

Importing this package imports no Qt; ``gui.cli`` loads the window lazily.
"""
