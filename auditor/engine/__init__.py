"""The audit engine (see ``core``): run one audit, stage by stage, stored as it goes."""

from __future__ import annotations

from auditor.engine.config import HOST_FACTOR, AuditConfig, AuditObserver, new_audit_id
from auditor.engine.core import Auditor, Collaborators
from auditor.engine.hostaudit import UNCONFIRMED_RATIONALE

__all__ = [
    "HOST_FACTOR",
    "UNCONFIRMED_RATIONALE",
    "AuditConfig",
    "AuditObserver",
    "Auditor",
    "Collaborators",
    "new_audit_id",
]
