"""The embedded audit store (SQLite)."""
