"""The lab: emulated camera sites on loopback or in network namespaces."""
