"""The debugger's panels: each follows the ``DebugSession`` and nothing else."""
