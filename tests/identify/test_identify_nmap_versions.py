"""nmap.service fingerprints must match what nmap really prints, version included.

``auditor.discovery.nmap_xml.service_text`` renders nmap's VERSION column as
``product version (extrainfo)``. nmap-service-probes (nmap 7.93) gives these products a version
(``v/$1/``): lines 11370/12152 (H264DVR rtspd), 10596 (uc-httpd), 11372 (Hipcam RealServer
rtspd). The versions below are the ones real devices sent: ``Server: H264DVR 1.0``
(agsh/onvif issue 310), ``uc-httpd 1.0.0`` (Recog http_servers.xml), ``Hipcam RealServer/V1.0``
(Recog rtsp_servers.xml). A pattern anchored at the end of the product name never saw them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.identify import Identifier
from auditor.models import DeviceType, Observation, ObservationKind

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IDENT = Identifier.default()


@pytest.mark.parametrize(
    ("printed", "device_type"),
    [
        ("H264DVR rtspd 1.0", DeviceType.DVR),
        ("uc-httpd 1.0.0", DeviceType.CAMERA),
        ("Hipcam RealServer rtspd 1.0", DeviceType.IP_CAMERA),
    ],
)
def test_nmap_output_with_a_version_still_says_what_the_device_is(
    printed: str, device_type: DeviceType
) -> None:
    obs = Observation(
        kind=ObservationKind.NMAP_SERVICE, value=printed, source="nmap", observed_at=NOW
    )
    ident = IDENT.identify([obs])
    assert ident.evidence, f"no fingerprint matched nmap's own output {printed!r}"
    assert ident.device_type is device_type


def test_one_uc_httpd_header_seen_by_nmap_and_the_http_probe_names_no_maker() -> None:
    # nmap's "uc-httpd 1.0.0" is the same Server header the HTTP probe reads; counted twice it
    # must not turn a string several makers' firmware share into a named maker.
    ident = IDENT.identify(
        [
            Observation(
                kind=ObservationKind.HTTP_SERVER,
                value="uc-httpd 1.0.0",
                source="http",
                observed_at=NOW,
            ),
            Observation(
                kind=ObservationKind.NMAP_SERVICE,
                value="uc-httpd 1.0.0",
                source="nmap",
                observed_at=NOW,
            ),
        ]
    )
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.CAMERA
