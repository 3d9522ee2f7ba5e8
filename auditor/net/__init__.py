"""Helpers every network-facing stage shares: parsing what devices send, safely."""
