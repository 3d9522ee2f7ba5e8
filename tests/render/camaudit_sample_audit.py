"""The shared audit fixture for store and report tests, built from model values.

Five hosts: an LTS-branded Hikvision relabel, a Dahua NVR with a HiSilicon SoC, a device whose
maker is unknown, an incomplete host (probes timed out), and a hostile device whose banner carries
HTML, a spreadsheet formula and terminal control characters. Banner strings come from the
research notes (fingerprinting.md, oem-map.md); exposures cite the public sources named there.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime

from auditor.models import (
    Audience,
    AuditId,
    AuditInfo,
    AuditReport,
    Channel,
    Component,
    DataVersion,
    DeviceResult,
    DeviceType,
    EvidenceLink,
    Exposure,
    ExposureStatus,
    FingerprintId,
    Host,
    Identification,
    InstrumentId,
    Observation,
    ObservationKind,
    Outcome,
    OutOfScopeReference,
    ProbeAttempt,
    Reason,
    Remediation,
    RemediationAction,
    Service,
    Severity,
)

T0 = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
HOSTILE_TITLE = "<script>alert('title')</script>\x1b[31mRED\x1b[0m"
HOSTILE_REALM = "=cmd|' /C calc'!A0"
HOSTILE_MODEL = "=cmd|' /C calc'!A0<img src=x onerror=alert(1)>\x07\x1b]0;pwned\x07"
HOSTILE_BRAND = "<script>alert('brand')</script>"
HOSTILE_FIRMWARE = "+SUM(1+1)\r\n@V5.00.R02"

FCC = "https://www.fcc.gov/supplychain/coveredlist"
FAR_889 = "https://www.acquisition.gov/far/52.204-25"
BIS_2019 = "https://www.federalregister.gov/d/2019-22210"


def _at(seconds: float) -> datetime:
    return T0.replace(second=int(seconds) % 60, minute=int(seconds) // 60, microsecond=123456)


def _obs(
    kind: ObservationKind, value: str, source: str, s: float, port: int | None = None
) -> Observation:
    return Observation(kind=kind, value=value, source=source, observed_at=_at(s), port=port)


def _link(obs: Observation, fp: str, desc: str, weight: float, **asserts: str) -> EvidenceLink:
    return EvidenceLink(
        observation=obs,
        fingerprint_id=FingerprintId(fp),
        description=desc,
        asserts=tuple((k.replace("_", "."), v) for k, v in asserts.items()),
        weight=weight,
        source="fingerprinting.md (Recog http_servers.xml; hikvision_next fixtures)",
    )


def _fcc(severity: Severity, entity: str) -> Exposure:
    return Exposure(
        instrument=InstrumentId("us-fcc-covered-list"),
        instrument_name="FCC Covered List (Secure Networks Act)",
        jurisdiction="US",
        status=ExposureStatus.COVERED_IF_SECURITY_USE,
        severity=severity,
        effect="No new FCC equipment authorisations; covered when used for public safety, "
        "security of government facilities or critical-infrastructure surveillance.",
        binds="FCC grantees and USF recipients",
        source=FCC,
        since=date(2021, 3, 12),
        entity=entity,
    )


def _ndaa(severity: Severity, entity: str) -> Exposure:
    return Exposure(
        instrument=InstrumentId("us-ndaa-889"),
        instrument_name="NDAA FY2019 section 889",
        jurisdiction="US",
        status=ExposureStatus.COVERED_IF_SECURITY_USE,
        severity=severity,
        effect="Federal contractors may not use covered video surveillance equipment for "
        "security purposes (FAR 52.204-25); report it within one business day.",
        binds="US federal agencies and contractors",
        source=FAR_889,
        since=date(2020, 8, 13),
        entity=entity,
    )


def _bis(entity: str) -> Exposure:
    return Exposure(
        instrument=InstrumentId("us-bis-entity-list"),
        instrument_name="BIS Entity List",
        jurisdiction="US",
        status=ExposureStatus.LISTED,
        severity=Severity.LOW,
        effect="Licence needed to export EAR items (firmware, parts) to the maker; using the "
        "camera is not prohibited.",
        binds="exporters of EAR items",
        source=BIS_2019,
        since=date(2019, 10, 9),
        entity=entity,
    )


def hikvision_relabel() -> DeviceResult:
    server = _obs(ObservationKind.HTTP_SERVER, "App-webs/", "http:80", 5, 80)
    isapi = _obs(
        ObservationKind.ISAPI_DEVICE_INFO,
        '<DeviceInfo xmlns="http://www.std-cgi.com/ver20/XMLSchema"><model>CMIP8242WB</model>'
        "<firmwareVersion>V5.6.3</firmwareVersion><systemContact>STD-CGI</systemContact>"
        "</DeviceInfo>",
        "isapi:80",
        6,
        80,
    )
    mac = _obs(ObservationKind.MAC_VENDOR, "Hangzhou Hikvision Digital Technology", "nmap", 1)
    host = Host(
        address=ipaddress.ip_address("10.20.0.11"),
        mac="54:c4:15:0a:0b:0c",
        mac_vendor="Hangzhou Hikvision Digital Technology",
        services=(Service(80, name="http", product="App-webs"), Service(554, name="rtsp")),
        seen_by=frozenset({Channel.NMAP, Channel.SADP}),
        endpoint_ids=frozenset({"uuid:8fa3c2d0-0000-4000-8000-54c4150a0b0c"}),
        observations=(mac,),
    )
    ident = Identification(
        manufacturer="Hikvision",
        brand="LTS",
        model="CMIP8242WB",
        firmware="V5.6.3",
        serial="CMIP8242WB20250101AAWRJ12345678",
        device_type=DeviceType.IP_CAMERA,
        confidence=0.93,
        evidence=(
            _link(
                server,
                "http.server.app-webs",
                "Hikvision web server banner",
                0.6,
                hw_vendor="Hikvision",
            ),
            _link(
                isapi,
                "isapi.std-cgi",
                "ISAPI on OEM-neutral firmware (std-cgi.com)",
                0.8,
                hw_vendor="Hikvision",
                hw_model="CMIP8242WB",
            ),
            _link(
                mac,
                "oui.hikvision",
                "MAC prefix registered to Hikvision (IEEE)",
                0.4,
                hw_vendor="Hikvision",
            ),
        ),
        oem_relabel=True,
        rationale=("Brand LTS on Hikvision firmware and a Hikvision OUI: an OEM relabel.",),
    )
    return DeviceResult(
        host=host,
        attempts=(
            ProbeAttempt("http", Outcome.COMPLETED, (server,), duration_s=0.12),
            ProbeAttempt("isapi", Outcome.COMPLETED, (isapi,), duration_s=0.2),
            ProbeAttempt(
                "onvif",
                Outcome.NOT_RUN,
                reason=Reason.NO_CREDENTIALS,
                detail="GetDeviceInformation needs credentials",
            ),
        ),
        identification=ident,
        exposures=(
            _ndaa(Severity.CRITICAL, "Hangzhou Hikvision Digital Technology Company"),
            _fcc(Severity.HIGH, "Hangzhou Hikvision Digital Technology Company"),
            _bis("Hikvision"),
        ),
        remediation=Remediation(
            RemediationAction.REPLACE, 1, "Covered under NDAA section 889 for a federal contractor."
        ),
    )


def dahua_nvr() -> DeviceResult:
    rtsp = _obs(ObservationKind.RTSP_SERVER, "Dahua Rtsp Server", "rtsp:554", 10, 554)
    realm = _obs(
        ObservationKind.RTSP_WWW_AUTHENTICATE,
        'Digest realm="Login to 7G0123PAZ0A1B2C"',
        "rtsp:554",
        10,
        554,
    )
    dhip = _obs(
        ObservationKind.DHIP_REPLY,
        '{"method":"client.notifyDevInfo","params":{"deviceInfo":{"Vendor":"Dahua",'
        '"DeviceType":"NVR4104HS-P-4KS2","SerialNo":"7G0123PAZ0A1B2C","Port":37777}}}',
        "dhip",
        2,
    )
    soc = _obs(ObservationKind.DAHUA_SYSTEM_INFO, "processor=HI3536", "dahua:80", 12, 80)
    host = Host(
        address=ipaddress.ip_address("10.20.0.12"),
        mac="90:02:a9:11:22:33",
        mac_vendor="Zhejiang Dahua Technology",
        services=(
            Service(80),
            Service(554, name="rtsp", product="Dahua Rtsp Server"),
            Service(37777),
        ),
        seen_by=frozenset({Channel.NMAP, Channel.DHIP}),
        observations=(dhip,),
    )
    soc_link = _link(
        soc,
        "dahua.processor.hisilicon",
        "SoC reported by magicBox",
        0.7,
        component_vendor="HiSilicon",
    )
    ident = Identification(
        manufacturer="Dahua",
        brand="Dahua",
        model="NVR4104HS-P-4KS2",
        serial="7G0123PAZ0A1B2C",
        firmware="4.001.0000000.0.R",
        device_type=DeviceType.NVR,
        confidence=0.97,
        evidence=(
            _link(dhip, "dhip.vendor", "DHIP discovery names the vendor", 0.9, hw_vendor="Dahua"),
            _link(rtsp, "rtsp.server.dahua", "Dahua RTSP server banner", 0.7, hw_vendor="Dahua"),
            _link(
                realm,
                "realm.login-to-serial",
                "Dahua realm format 'Login to <serial>'",
                0.5,
                hw_vendor="Dahua",
            ),
        ),
        components=(Component("soc", "HiSilicon", "Hi3536", (soc_link,)),),
    )
    return DeviceResult(
        host=host,
        attempts=(
            ProbeAttempt("rtsp", Outcome.COMPLETED, (rtsp, realm), duration_s=0.05),
            ProbeAttempt("dahua", Outcome.COMPLETED, (soc,), duration_s=0.31),
        ),
        identification=ident,
        exposures=(
            _ndaa(Severity.CRITICAL, "Dahua Technology Company"),
            _fcc(Severity.HIGH, "Dahua Technology Company"),
            _bis("Dahua Technology"),
        ),
        remediation=Remediation(
            RemediationAction.REPLACE, 1, "Covered under NDAA section 889 for a federal contractor."
        ),
    )


def unknown_maker() -> DeviceResult:
    title = _obs(ObservationKind.HTTP_TITLE, "Web Client", "http:80", 20, 80)
    host = Host(
        address=ipaddress.ip_address("10.20.0.13"),
        services=(Service(80), Service(554)),
        seen_by=frozenset({Channel.NMAP}),
    )
    return DeviceResult(
        host=host,
        attempts=(ProbeAttempt("http", Outcome.COMPLETED, (title,), duration_s=0.08),),
        identification=Identification.unknown(
            ("No fingerprint matched; a generic page title is not enough to name a maker.",)
        ),
        exposures=(
            Exposure(
                instrument=InstrumentId("manual-review"),
                instrument_name="Manual review",
                jurisdiction="-",
                status=ExposureStatus.UNKNOWN,
                severity=Severity.MEDIUM,
                effect="Maker unknown: check the label and purchase records.",
                binds="you",
                source="",
            ),
        ),
        remediation=Remediation(RemediationAction.REVIEW, 2, "Maker unknown."),
    )


def incomplete_host() -> DeviceResult:
    host = Host(
        address=ipaddress.ip_address("10.20.0.14"),
        mac="ac:cc:8e:01:02:03",
        mac_vendor="Axis Communications AB",
        services=(Service(443), Service(554)),
        seen_by=frozenset({Channel.NMAP}),
    )
    mac = _obs(ObservationKind.MAC, "ac:cc:8e:01:02:03", "nmap", 30)
    return DeviceResult(
        host=host,
        attempts=(
            ProbeAttempt(
                "https",
                Outcome.FAILED,
                reason=Reason.TIMEOUT,
                detail="no TLS handshake on 443/tcp within 3.0 s",
                duration_s=3.0,
            ),
            ProbeAttempt(
                "rtsp",
                Outcome.FAILED,
                reason=Reason.RESET,
                detail="connection reset on 554/tcp",
                duration_s=0.01,
            ),
            ProbeAttempt(
                "onvif", Outcome.NOT_RUN, reason=Reason.NO_SERVICE, detail="no ONVIF service found"
            ),
        ),
        identification=Identification(
            manufacturer="Axis",
            brand="Axis",
            device_type=DeviceType.CAMERA,
            confidence=0.35,
            evidence=(
                _link(
                    mac, "oui.axis", "MAC prefix registered to Axis (IEEE)", 0.35, hw_vendor="Axis"
                ),
            ),
            rationale=("Only the MAC prefix answered; the probes timed out.",),
        ),
        exposures=(),
        remediation=Remediation(RemediationAction.MONITOR, 3, "Re-run when the host answers."),
    )


def hostile_device() -> DeviceResult:
    title = _obs(ObservationKind.HTTP_TITLE, HOSTILE_TITLE, "http:80", 40, 80)
    realm = _obs(
        ObservationKind.HTTP_WWW_AUTHENTICATE, f'Basic realm="{HOSTILE_REALM}"', "http:80", 40, 80
    )
    banner = _obs(ObservationKind.DVRIP_BANNER, f"model={HOSTILE_MODEL}", "dvrip:34567", 41, 34567)
    host = Host(
        address=ipaddress.ip_address("10.20.0.66"),
        mac="00:12:34:56:78:9a",
        services=(Service(80), Service(34567)),
        seen_by=frozenset({Channel.NMAP}),
    )
    ident = Identification(
        manufacturer="Xiongmai",
        brand=HOSTILE_BRAND,
        model=HOSTILE_MODEL,
        firmware=HOSTILE_FIRMWARE,
        device_type=DeviceType.DVR,
        confidence=0.6,
        evidence=(
            _link(
                banner,
                "dvrip.port-34567",
                "NETIP/DVRIP service on 34567",
                0.6,
                hw_vendor="Xiongmai",
            ),
        ),
        oem_relabel=True,
        rationale=(f"Device says its brand is {HOSTILE_BRAND}",),
    )
    return DeviceResult(
        host=host,
        attempts=(
            ProbeAttempt("http", Outcome.COMPLETED, (title, realm), duration_s=0.1),
            ProbeAttempt("dvrip", Outcome.COMPLETED, (banner,), duration_s=0.2),
        ),
        identification=ident,
        exposures=(
            Exposure(
                instrument=InstrumentId("list-import"),
                instrument_name="Imported list <b>bold</b>",
                jurisdiction="US",
                status=ExposureStatus.POSSIBLE_MATCH,
                severity=Severity.MEDIUM,
                effect="Name resembles a listed entity; verify.",
                binds='=HYPERLINK("http://evil")',
                source="file:///lists/import.csv",
                entity="-2+3",
                uncertain=True,
                match_score=0.82,
                list_row="@SUM(1+1)*cmd|' /C calc'!A0,<script>alert(3)</script>",
            ),
        ),
        remediation=Remediation(RemediationAction.ISOLATE, 2, "Possible list match; isolate."),
    )


def audit_info() -> AuditInfo:
    return AuditInfo(
        id=AuditId("20261121T090000Z-hq"),
        site="Headquarters",
        started=T0,
        finished=T0.replace(minute=4, second=12),
        tool_version="0.1.0",
        targets=("10.20.0.0/24",),
        excludes=("10.20.0.1",),
        profile=Audience.US_FEDERAL_CONTRACTOR,
        data_versions=(
            DataVersion("fingerprints", "2026.11.1", date(2026, 11, 20), "fingerprints/"),
            DataVersion("regulatory", "2026.08", date(2026, 8, 22), "OpenSanctions snapshot"),
        ),
        ports=(80, 443, 554, 8000, 34567, 37777),
        probes=("http", "https", "isapi", "rtsp", "onvif", "dahua", "dvrip"),
    )


def sample_report() -> AuditReport:
    """The fixture audit; devices in address order, as the store returns them."""
    return AuditReport(
        audit=audit_info(),
        devices=(
            hikvision_relabel(),
            dahua_nvr(),
            unknown_maker(),
            incomplete_host(),
            hostile_device(),
        ),
        out_of_scope=(
            OutOfScopeReference("198.51.100.7", ipaddress.ip_address("10.20.0.12"), "onvif.xaddrs"),
        ),
        notes=("1 host could not be fully probed.",),
    )
