"""The audit store: audits, hosts, evidence, identifications, exposures.

An SQLite file (the embedded default) or a PostgreSQL database (``postgresql://`` URL)."""

from auditor.store.db import Store
from auditor.store.paths import default_db_path
from auditor.store.reader import AuditSummary

__all__ = ["AuditSummary", "Store", "default_db_path"]
