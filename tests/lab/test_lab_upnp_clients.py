"""async-upnp-client (Home Assistant's UPnP library) searching the lab's SSDP responders."""

from __future__ import annotations

import asyncio

import pytest

search = pytest.importorskip("async_upnp_client.search")


def run_search(address: str, port: int, target: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []

    async def collect(headers: object) -> None:
        found.append(dict(headers))  # type: ignore[call-overload]

    async def main() -> None:
        await search.async_search(
            collect,
            timeout=1,
            search_target=target,
            source=("127.0.0.1", 0),
            target=(address, port),
        )

    asyncio.run(main())
    return found


def test_ssdp_all_gets_one_reply_per_advertised_target(all_site):
    device = all_site.device("router-openwrt")
    port = device.port(1900)
    replies = run_search(device.address, port, "ssdp:all")
    udn = f"uuid:{device.uuid}"
    device_type = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    assert sorted(r["ST"] for r in replies) == sorted(["upnp:rootdevice", udn, device_type])
    assert {r["USN"] for r in replies} == {
        f"{udn}::upnp:rootdevice",
        udn,
        f"{udn}::{device_type}",
    }
    assert {r["LOCATION"] for r in replies} == {
        f"http://{device.render('${http_authority}')}/rootDesc.xml"
    }

    # A specific search target still gets only the reply that matches it.
    specific = run_search(device.address, port, "upnp:rootdevice")
    assert [r["ST"] for r in specific] == ["upnp:rootdevice"]
    assert run_search(device.address, port, "urn:example:device:None:1") == []
