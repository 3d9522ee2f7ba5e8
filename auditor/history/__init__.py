"""Reports across audits: what changed between two audits of a site (compare), and one
organisation-wide report from several site audits (combine). They read stored audits and store
nothing, so they live beside the store, not in it."""
