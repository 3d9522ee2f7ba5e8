"""Exposure assessment: from manufacturer to regulatory instruments, lists and remediation."""
