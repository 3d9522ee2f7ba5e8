"""Imports: nmap XML made elsewhere and CSV inventories with the header names real exports use."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.discovery import import_csv_inventory, import_nmap_xml, merge_hosts
from auditor.errors import DataFileError
from auditor.models import Channel, Host, ObservationKind

ASSETS = Path(__file__).parent / "assets"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def test_csv_dhcp_lease_export(tmp_path: Path) -> None:
    # Windows DHCP server export column names; MAC in Windows' dash form.
    p = write(
        tmp_path,
        "leases.csv",
        "\ufeffClient IP Address,Name,Lease Expiration,Type,Unique ID,Description\n"
        "192.0.2.10,cam-lobby,11/22/2026 9:00 AM,DHCP,c4-2f-90-a1-b2-c3,\n"
        "\n"
        "192.0.2.11,,11/22/2026 9:00 AM,DHCP,3cef8c000001,\n",
    )
    hosts = {str(h.address): h for h in import_csv_inventory(p)}
    assert hosts["192.0.2.10"].mac == "c4:2f:90:a1:b2:c3"
    assert hosts["192.0.2.11"].mac == "3c:ef:8c:00:00:01"
    assert hosts["192.0.2.10"].seen_by == {Channel.IMPORT_CSV}
    kinds = {(o.kind, o.value) for o in hosts["192.0.2.10"].observations}
    assert (ObservationKind.HOSTNAME, "cam-lobby") in kinds
    assert (ObservationKind.MAC, "c4:2f:90:a1:b2:c3") in kinds


def test_csv_switch_arp_table_semicolons(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "arp.csv",
        "Internet Address;Hardware Addr;Vendor\n10.1.2.3;0011.2233.4455;Example Corp\n10.1.2.3;;\n",
    )
    (host,) = import_csv_inventory(p)
    assert host.mac == "00:11:22:33:44:55" and host.mac_vendor == "Example Corp"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("ip,mac\n192.0.2.1,aa:bb:cc:dd:ee:ff\nnot-an-ip,\n", 3, "not an IP address"),
        ("ip,mac\n192.0.2.1,zz\n", 2, "not a MAC address"),
        ("host,comment\nfoo,bar\n", 1, "no IP address column"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataFileError, match=message) as err:
        import_csv_inventory(p)
    assert err.value.line == line and f"bad.csv:{line}" in str(err.value)


def test_csv_not_utf8_and_missing(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not UTF-8"):
        import_csv_inventory(write(tmp_path, "latin.csv", b"ip,name\n192.0.2.1,caf\xe9\n"))
    with pytest.raises(DataFileError, match="cannot read"):
        import_csv_inventory(tmp_path / "missing.csv")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=400)
    | st.text(max_size=400).map(lambda t: ("ip,mac,hostname\n" + t).encode())
)
def test_csv_value_or_data_file_error(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "fuzz.csv"
    p.write_bytes(data)
    try:
        hosts = import_csv_inventory(p)
    except DataFileError:
        return
    assert all(isinstance(h, Host) for h in hosts)


def test_nmap_xml_malformed_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "scan.xml", '<?xml version="1.0"?>\n<nmaprun>\n<host>\n</nmaprun>\n')
    with pytest.raises(DataFileError) as err:
        import_nmap_xml(p)
    assert err.value.line == 4
    with pytest.raises(DataFileError, match="not nmap XML"):
        import_nmap_xml(write(tmp_path, "other.xml", "<root/>"))
    bomb = '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "x">]><nmaprun>&a;</nmaprun>'
    with pytest.raises(DataFileError, match="unsafe"):
        import_nmap_xml(write(tmp_path, "bomb.xml", bomb))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=600)
    | st.text(max_size=600).map(lambda t: f"<nmaprun>{t}</nmaprun>".encode())
)
def test_nmap_xml_value_or_data_file_error(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "fuzz.xml"
    p.write_bytes(data)
    try:
        hosts = import_nmap_xml(p)
    except DataFileError:
        return
    assert all(isinstance(h, Host) for h in hosts)


def test_merge_keeps_every_channel() -> None:
    a = Host(ip_address("192.0.2.5"), seen_by=frozenset({Channel.SADP}), mac="c4:2f:90:a1:b2:c3")
    b = Host(
        ip_address("192.0.2.5"),
        seen_by=frozenset({Channel.NMAP}),
        endpoint_ids=frozenset({"urn:uuid:x"}),
    )
    c = Host(ip_address("192.0.2.4"), seen_by=frozenset({Channel.WS_DISCOVERY}))
    merged = merge_hosts([a, b, c])
    assert [str(h.address) for h in merged] == ["192.0.2.4", "192.0.2.5"]
    assert merged[1].seen_by == {Channel.SADP, Channel.NMAP}
    assert merged[1].mac == "c4:2f:90:a1:b2:c3" and merged[1].endpoint_ids == {"urn:uuid:x"}


def test_real_nmap_sv_file_from_the_lab() -> None:
    # Written by `nmap -n -sS -sV -Pn -p <lab plan> -oX` against a LoopbackSite
    # (hikvision-ipc, dahua-ipc, xiongmai-dvr, hipcam-generic, axis-p1375, linux-nginx).
    hosts = {str(h.address): h for h in import_nmap_xml(ASSETS / "lab-loopback-sV.xml")}
    assert len(hosts) == 6
    hik = hosts["127.88.1.10"]
    assert hik.seen_by == {Channel.IMPORT_NMAP}
    http = next(s for s in hik.services if s.port == 10080)
    assert (http.product, http.device_type) == ("Hikvision IP camera httpd", "webcam")
    sdk = next(s for s in hik.services if s.port == 8000)
    assert sdk.product == "Hikvision IPCam control port"
    # Closed ports that nmap still named from its table are not services.
    assert hik.open_tcp_ports == {8000, 10080, 10554}
    values = {
        o.value
        for h in hosts.values()
        for o in h.observations
        if o.kind is ObservationKind.NMAP_SERVICE
    }
    assert {"Hikvision IP camera httpd", "Dahua webcam httpd", "uc-httpd 1.0.0"} <= values
    assert "OpenSSH 8.2p1 Ubuntu 4ubuntu0.5 (Ubuntu Linux; protocol 2.0)" in values
    xm = next(s for s in hosts["127.88.1.12"].services if s.product == "uc-httpd")
    assert any("xiongmai" in c for c in xm.cpes)
    # Evidence carries the scan's own time, not the import's.
    assert all(o.observed_at.year == 2026 for h in hosts.values() for o in h.observations)


def test_nmap_xml_bad_port_names_the_host_line(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0"?>\n<nmaprun>\n<host><status state="up"/>\n'
        '<address addr="192.0.2.9" addrtype="ipv4"/>\n<ports><port protocol="tcp" portid="99999">'
        '<state state="open"/></port></ports></host>\n</nmaprun>\n'
    )
    with pytest.raises(DataFileError, match="port out of range") as err:
        import_nmap_xml(write(tmp_path, "ports.xml", text))
    assert err.value.line == 4


_attr = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    _attr | st.sampled_from(["192.0.2.1", "2001:db8::1"]),
    _attr | st.just("ipv4"),
    _attr | st.integers(-5, 70000).map(str),
    _attr | st.sampled_from(["tcp", "udp"]),
    _attr | st.just("up"),
    _attr | st.just("c4:2f:90:a1:b2:c3"),
)
def test_nmap_xml_structured_value_or_error(
    tmp_path: Path, addr: str, kind: str, port: str, proto: str, state: str, mac: str
) -> None:
    from xml.sax.saxutils import quoteattr as q

    text = (
        f"<nmaprun><host><status state={q(state)}/><address addr={q(addr)} addrtype={q(kind)}/>"
        f'<address addr={q(mac)} addrtype="mac" vendor="V"/><ports><port protocol={q(proto)} '
        f'portid={q(port)}><state state="open"/><service name="x" product={q(addr)}/></port>'
        "</ports></host></nmaprun>"
    )
    p = tmp_path / "s.xml"
    p.write_text(text)
    try:
        hosts = import_nmap_xml(p)
    except DataFileError:
        return
    assert all(isinstance(h, Host) for h in hosts)
