"""Exposure assessment: from manufacturer to regulatory instruments, lists and remediation.

Public API (the engine and the report re-render call exactly this)::

    assessor = Assessor.load(db_path)
    result = assessor.assess(identification, audience)   # DeviceAssessment
    result.exposures, result.remediation
    assessor.data_versions(), assessor.notes()
    reassess(report, audience, assessor)
"""

from auditor.exposure.assess import Assessor, DeviceAssessment
from auditor.exposure.report import reassess

__all__ = ["Assessor", "DeviceAssessment", "reassess"]
