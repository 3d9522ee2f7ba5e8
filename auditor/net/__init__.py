"""The network layer discovery and probes share: bounded TCP/TLS transports and HTTP/RTSP replies
(``wire``), one bounded HTTP exchange with an auth retry (``exchange``), authentication answers
(``auth``), SOAP envelopes (``soap``), the SNMP BER codec (``ber``) and the one XML parser
(``safexml``). It imports neither ``auditor.discovery`` nor ``auditor.probes``."""
