"""Hostile-file tests for the trace reader: a committed worst-case corpus and property tests."""
