"""The Hikvision stream header in an SDP (MEDIAINFO=494D4B48, 'IMKH') is not Hikvision's alone.

Third-party RTSP servers write the same ``a=Media_header:MEDIAINFO=494D4B48...`` line for
compatibility with Hikvision clients (public server code emits it under the comment
"海康文件头", "Hikvision file header"). The line below is the exact video-only header those
servers send and real Hikvision cameras send alike (fingerprints/rtsp_sdp.yaml cites both), so
alone it says "camera, maker unknown"; the Hikvision realm ``IP Camera(C1214)`` (google/ExoPlayer
issue 9800) corroborates it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.identify import Identifier
from auditor.models import DeviceType, Observation, ObservationKind

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IDENT = Identifier.default()
IMKH = (
    "a=Media_header:MEDIAINFO="
    "494D4B48010100000400010000000000000000000000000000000000000000000000000000000000;"
)


def obs(kind: ObservationKind, value: str) -> Observation:
    return Observation(kind=kind, value=value, source="test", observed_at=NOW)


def test_the_imkh_header_alone_is_a_camera_of_unknown_maker() -> None:
    ident = IDENT.identify([obs(ObservationKind.RTSP_SDP, IMKH)])
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.CAMERA


def test_the_imkh_header_with_a_hikvision_realm_names_hikvision() -> None:
    ident = IDENT.identify(
        [
            obs(ObservationKind.RTSP_SDP, IMKH),
            obs(
                ObservationKind.RTSP_WWW_AUTHENTICATE,
                'Digest realm="IP Camera(C1214)", nonce="0191a41d87c28cd52b3e9c8adc99291c", '
                'stale="FALSE"',
            ),
        ]
    )
    assert ident.manufacturer == "Hikvision"
