"""The embedded audit store (SQLite): audits, hosts, evidence, identifications, exposures."""

from auditor.store.db import AuditSummary, Store
from auditor.store.paths import default_db_path

__all__ = ["AuditSummary", "Store", "default_db_path"]
