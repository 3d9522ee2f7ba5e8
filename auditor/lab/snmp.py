"""A read-only SNMPv2c agent for lab devices: GET of the system group's sysDescr/sysObjectID.

Like a real agent it stays silent on a wrong community or version and answers other names with
``noSuchObject``. Nothing can be set: SetRequest and every other PDU are ignored.
"""

from __future__ import annotations

from auditor.lab.discovery import Responder
from auditor.net import ber

#: The community every lab agent accepts: published, lab-only, given to the auditor like a user's.
LAB_COMMUNITY = "camaudit-lab-ro"

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"


class SnmpAgent(Responder):
    def answer(self, data: bytes) -> list[bytes]:
        try:
            req = ber.parse_message(data, ber.GET_REQUEST)
        except ber.BerError:
            return []
        community = str(self.cfg.get("community", LAB_COMMUNITY)).encode()
        if req.version != ber.SNMP_V2C or req.community != community:
            return []
        binds = b"".join(
            ber.tlv(ber.SEQUENCE, ber.encode_oid(name) + self.value(name))
            for name, _ in req.varbinds
        )
        pdu = ber.tlv(
            ber.GET_RESPONSE,
            ber.encode_int(req.request_id)
            + ber.encode_int(0)
            + ber.encode_int(0)
            + ber.tlv(ber.SEQUENCE, binds),
        )
        message = ber.encode_int(ber.SNMP_V2C) + ber.tlv(ber.OCTET_STRING, community) + pdu
        return [ber.tlv(ber.SEQUENCE, message)]

    def value(self, name: str) -> bytes:
        if name == SYS_DESCR and "sysdescr" in self.cfg:
            text = self.device.render(str(self.cfg["sysdescr"]))
            return ber.tlv(ber.OCTET_STRING, text.encode("utf-8"))
        if name == SYS_OBJECT_ID and "sysobjectid" in self.cfg:
            return ber.encode_oid(str(self.cfg["sysobjectid"]))
        return ber.tlv(ber.NO_SUCH_OBJECT, b"")
