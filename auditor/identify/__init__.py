"""Identification: match observations against the fingerprint database and fuse them."""
