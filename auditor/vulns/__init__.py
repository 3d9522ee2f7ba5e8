"""Known vulnerabilities of the devices' firmware: CISA KEV and CVE records, imported offline.

Public API (the CLI, the engine and the report re-render call exactly this)::

    import_kev(root, path), import_cve(root, paths)     # into <data dir>/vulns/
    VulnAssessor.load(root, today=...).attach(report)  # findings on every device
    VulnMatcher(data).match(identification, audience)  # one device
"""

from auditor.vulns.assess import VulnAssessor
from auditor.vulns.importers import VulnDataError
from auditor.vulns.matching import VulnMatcher
from auditor.vulns.store import import_cve, import_kev, load

__all__ = ["VulnAssessor", "VulnDataError", "VulnMatcher", "import_cve", "import_kev", "load"]
