"""The central PostgreSQL store's write side for site collectors: push, and least privilege.

A collector never touches the central tables. It holds EXECUTE on four SECURITY DEFINER
functions installed here, which insert rows only (``ON CONFLICT DO NOTHING``) and check that the
logged-in role may push for the audit's site (table ``camaudit_collectors``). So the collector
role has no SELECT, UPDATE or DELETE on any table, cannot read any site's audits, and cannot
change a row once written; the one state change it can ask for is "this unfinished audit of my
site is now finished", which sets ``finished``, ``notes`` and ``channel_failures`` once, and only
when every host the collector reports is already in the central store.

Each host travels as one JSON document and is written by one function call, in one transaction:
a push that is killed or loses its connection keeps every host it committed and none half-way,
and the next push skips the hosts already there (the unique ``(audit_id, address)`` decides).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql

from auditor.errors import StoreError
from auditor.store.location import check_url, redact
from auditor.store.pg_engine import CONNECT_TIMEOUT_S

#: Site value that lets a collector role push audits of any site.
ANY_SITE = "*"

#: The functions a collector is granted, with their argument types (GRANT needs them).
COLLECTOR_FUNCTIONS = (
    "camaudit_push_audit(jsonb)",
    "camaudit_push_host(text, jsonb)",
    "camaudit_push_refs(text, jsonb)",
    "camaudit_finish_audit(text, jsonb, integer)",
)

# Row-type population (jsonb_populate_record[set](NULL::table, ...)) maps JSON keys to the columns
# by name and converts each value with the column type's own input function, so these functions
# do not restate the store's column types. OVERRIDING SYSTEM VALUE: ids are allocated here from
# the table's own sequence, whether the column is serial or an identity column.
_FUNCTIONS = """
CREATE TABLE IF NOT EXISTS camaudit_collectors (
    role  name NOT NULL,
    site  text NOT NULL,
    PRIMARY KEY (role, site)
);
COMMENT ON TABLE camaudit_collectors IS
    'camaudit: which login role may push audits of which site (''*'': any site)';

CREATE OR REPLACE FUNCTION camaudit_may_push(p_site text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
    -- session_user: the role that logged in, not the owner this function runs as.
    SELECT session_user = current_user OR EXISTS (
        SELECT 1 FROM camaudit_collectors c
        WHERE c.role = session_user AND c.site IN (p_site, '*'))
$fn$;

CREATE OR REPLACE FUNCTION camaudit_check_site(p_site text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
BEGIN
    IF NOT camaudit_may_push(p_site) THEN
        RAISE EXCEPTION 'role % may not push audits of site %', session_user, p_site
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the administrator adds the role and site to camaudit_collectors';
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION camaudit_push_audit(p jsonb) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    a audits;
    have audits;
BEGIN
    a := jsonb_populate_record(NULL::audits, p);
    IF a.id IS NULL OR a.site IS NULL THEN
        RAISE EXCEPTION 'an audit needs an id and a site' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM camaudit_check_site(a.site);
    -- Finished only by camaudit_finish_audit, once every host is in.
    a.finished := NULL;
    INSERT INTO audits VALUES (a.*) ON CONFLICT (id) DO NOTHING;
    IF FOUND THEN
        RETURN 'new';
    END IF;
    SELECT * INTO have FROM audits WHERE id = a.id;
    IF have.site IS DISTINCT FROM a.site THEN
        RAISE EXCEPTION 'audit % is already in the central store for another site', a.id
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN CASE WHEN have.finished IS NULL THEN 'open' ELSE 'finished' END;
END
$fn$;

CREATE OR REPLACE FUNCTION camaudit_push_host(p_audit text, p jsonb) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    a audits;
    h hosts;
    hid bigint;
    att bigint[];
    obs bigint[];
    comp bigint[];
BEGIN
    SELECT * INTO a FROM audits WHERE id = p_audit;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit % in the central store (push its header first)', p_audit
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM camaudit_check_site(a.site);
    h := jsonb_populate_record(NULL::hosts, p -> 'host');
    IF h.site IS NOT NULL AND h.site IS DISTINCT FROM a.site THEN
        -- A host's own site label (combined reports) may not name another site.
        RAISE EXCEPTION 'a host of audit % (site %) cannot be labelled site %',
            p_audit, a.site, h.site USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF a.finished IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM hosts WHERE audit_id = p_audit AND address = h.address) THEN
            RETURN false;
        END IF;
        RAISE EXCEPTION 'audit % is finished in the central store; it takes no new host', p_audit
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    h.id := nextval({hosts_seq}::regclass);
    h.audit_id := p_audit;
    INSERT INTO hosts OVERRIDING SYSTEM VALUE VALUES (h.*)
        ON CONFLICT (audit_id, address) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;  -- pushed before: the whole host came in one transaction
    END IF;
    hid := h.id;
    -- The document numbers attempts, observations and components 1..n; map them to new ids.
    att := ARRAY(SELECT nextval({att_seq}::regclass)
                 FROM generate_series(1, jsonb_array_length(p -> 'probe_attempts')));
    obs := ARRAY(SELECT nextval({obs_seq}::regclass)
                 FROM generate_series(1, jsonb_array_length(p -> 'observations')));
    comp := ARRAY(SELECT nextval({comp_seq}::regclass)
                  FROM generate_series(1, jsonb_array_length(p -> 'components')));
    INSERT INTO probe_attempts (id, host_id, position, probe, outcome, reason, detail,
                                duration_s)
    OVERRIDING SYSTEM VALUE
    SELECT att[x.id], hid, x.position, x.probe, x.outcome, x.reason, x.detail, x.duration_s
    FROM jsonb_populate_recordset(NULL::probe_attempts, p -> 'probe_attempts') x;
    INSERT INTO observations (id, host_id, attempt_id, origin, position, kind, value, source,
                              observed_at, port, sha256)
    OVERRIDING SYSTEM VALUE
    SELECT obs[x.id], hid, att[x.attempt_id], x.origin, x.position, x.kind, x.value, x.source,
           x.observed_at, x.port, x.sha256
    FROM jsonb_populate_recordset(NULL::observations, p -> 'observations') x;
    INSERT INTO components (id, host_id, position, kind, vendor, model)
    OVERRIDING SYSTEM VALUE
    SELECT comp[x.id], hid, x.position, x.kind, x.vendor, x.model
    FROM jsonb_populate_recordset(NULL::components, p -> 'components') x;
    INSERT INTO evidence_links (host_id, component_id, position, observation_id, fingerprint_id,
                                description, asserts, weight, source)
    SELECT hid, comp[x.component_id], x.position, obs[x.observation_id], x.fingerprint_id,
           x.description, x.asserts, x.weight, x.source
    FROM jsonb_populate_recordset(NULL::evidence_links, p -> 'evidence_links') x;
    INSERT INTO identifications (host_id, manufacturer, brand, model, firmware, serial,
                                 device_type, confidence, oem_relabel, rationale)
    SELECT hid, x.manufacturer, x.brand, x.model, x.firmware, x.serial, x.device_type,
           x.confidence, x.oem_relabel, x.rationale
    FROM jsonb_populate_recordset(NULL::identifications, p -> 'identifications') x;
    INSERT INTO exposures (host_id, position, instrument, instrument_name, jurisdiction, status,
                           severity, effect, binds, source, since, entity, uncertain,
                           match_score, list_row)
    SELECT hid, x.position, x.instrument, x.instrument_name, x.jurisdiction, x.status,
           x.severity, x.effect, x.binds, x.source, x.since, x.entity, x.uncertain,
           x.match_score, x.list_row
    FROM jsonb_populate_recordset(NULL::exposures, p -> 'exposures') x;
    INSERT INTO vulnerabilities (host_id, position, cve, finding)
    SELECT hid, x.position, x.cve, x.finding
    FROM jsonb_populate_recordset(NULL::vulnerabilities, p -> 'vulnerabilities') x;
    RETURN true;
END
$fn$;

CREATE OR REPLACE FUNCTION camaudit_push_refs(p_audit text, p jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    a audits;
    n integer;
BEGIN
    SELECT * INTO a FROM audits WHERE id = p_audit;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit % in the central store', p_audit
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM camaudit_check_site(a.site);
    INSERT INTO out_of_scope (audit_id, address, referrer, via, seq)
    SELECT p_audit, x.address, x.referrer, x.via, x.seq
    FROM jsonb_array_elements(p) e, LATERAL jsonb_populate_record(NULL::out_of_scope, e) x
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

CREATE OR REPLACE FUNCTION camaudit_finish_audit(p_audit text, p jsonb, p_hosts integer)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    a audits;
    f audits;
    n integer;
BEGIN
    SELECT * INTO a FROM audits WHERE id = p_audit FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit % in the central store', p_audit
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM camaudit_check_site(a.site);
    IF a.finished IS NOT NULL THEN
        RETURN 'finished';
    END IF;
    SELECT count(*) INTO n FROM hosts WHERE audit_id = p_audit;
    IF n <> p_hosts THEN
        -- Never mark an audit finished that lacks a host the collector has.
        RAISE EXCEPTION 'audit % has % hosts in the central store, the collector has %',
            p_audit, n, p_hosts USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    f := jsonb_populate_record(NULL::audits, p);
    IF f.finished IS NULL THEN
        RETURN 'open';
    END IF;
    UPDATE audits SET finished = f.finished, notes = f.notes,
                      channel_failures = f.channel_failures
    WHERE id = p_audit;
    RETURN 'now finished';
END
$fn$;

REVOKE ALL ON FUNCTION camaudit_may_push(text), camaudit_check_site(text),
    camaudit_push_audit(jsonb), camaudit_push_host(text, jsonb), camaudit_push_refs(text, jsonb),
    camaudit_finish_audit(text, jsonb, integer) FROM PUBLIC;
"""


#: The id sequences the push function draws from, by table (looked up once, at install).
_SEQUENCES = {
    "hosts_seq": "hosts",
    "att_seq": "probe_attempts",
    "obs_seq": "observations",
    "comp_seq": "components",
}


def install_sql(schema: str, sequences: dict[str, str]) -> sql.Composed:
    """The collectors table and the push functions, pinned to ``schema`` (CREATE OR REPLACE: safe
    to run again, e.g. after an upgrade). ``sequences``: each id sequence's qualified name."""
    return sql.SQL(_FUNCTIONS).format(
        schema=sql.Identifier(schema), **{k: sql.Literal(v) for k, v in sequences.items()}
    )


_ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_role_name(name: str) -> str:
    if not _ROLE_RE.match(name):
        raise ValueError(
            f"role name {name!r}: use lower-case letters, digits and _ (at most 63, not a digit "
            "first), so the statements need no quoting"
        )
    return name


def grant_statements(
    schema: str,
    database: str,
    *,
    collector: str = "camaudit_collector",
    reader: str = "camaudit_reader",
    example_login: str = "site_berlin",
    example_site: str = "Berlin",
) -> str:
    """The statements an administrator runs to create the two roles, as SQL text to print.

    The group roles carry the privileges and cannot log in; each site gets its own login role
    in the collector group (so a stolen site password pushes for that site only) and a row in
    camaudit_collectors naming its site.
    """
    for name in (collector, reader, example_login):
        check_role_name(name)
    s = _ident(schema)
    db = _ident(database)
    functions = ", ".join(f"{s}.{f}" for f in COLLECTOR_FUNCTIONS)
    site = example_site.replace("'", "''")
    return f"""-- camaudit central store: roles (run once, as the owner of the schema)
-- Collectors: EXECUTE on the push functions only; no table privilege at all.
CREATE ROLE {collector} NOLOGIN;
GRANT CONNECT ON DATABASE {db} TO {collector};
GRANT USAGE ON SCHEMA {s} TO {collector};
GRANT EXECUTE ON FUNCTION {functions} TO {collector};

-- Readers (the organisation view, audits, report, diff): SELECT only.
CREATE ROLE {reader} NOLOGIN;
GRANT CONNECT ON DATABASE {db} TO {reader};
GRANT USAGE ON SCHEMA {s} TO {reader};
GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {reader};
-- Tables a later camaudit adds: readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {reader};

-- One login per site (set its password with \\password in psql; never put it in a URL):
CREATE ROLE {example_login} LOGIN IN ROLE {collector};
INSERT INTO {s}.camaudit_collectors (role, site) VALUES ('{example_login}', '{site}');
-- A reader login:
-- CREATE ROLE hq_reports LOGIN IN ROLE {reader};
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def host_document(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Renumber one host's rows 1..n per table so the push function can map them to new ids."""
    doc: dict[str, Any] = {}
    att = {r["id"]: i for i, r in enumerate(tables["probe_attempts"], 1)}
    obs = {r["id"]: i for i, r in enumerate(tables["observations"], 1)}
    comp = {r["id"]: i for i, r in enumerate(tables["components"], 1)}
    doc["probe_attempts"] = [{**r, "id": att[r["id"]]} for r in tables["probe_attempts"]]
    doc["observations"] = [
        {**r, "id": obs[r["id"]], "attempt_id": att.get(r["attempt_id"])}
        for r in tables["observations"]
    ]
    doc["components"] = [{**r, "id": comp[r["id"]]} for r in tables["components"]]
    doc["evidence_links"] = [
        {
            **r,
            "observation_id": obs[r["observation_id"]],
            "component_id": comp.get(r["component_id"]),
        }
        for r in tables["evidence_links"]
    ]
    for name in ("identifications", "exposures", "vulnerabilities"):
        doc[name] = tables[name]
    return doc


def install(conn: psycopg.Connection[Any]) -> None:
    """Create or update the collectors table and the push functions in the current schema."""
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise StoreError("the central store has no current schema (check search_path)")
    sequences = {}
    for key, table in _SEQUENCES.items():
        seq = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
        if seq is None or seq[0] is None:
            raise StoreError(
                f"the central store has no id sequence for {table}: not a camaudit store"
            )
        sequences[key] = str(seq[0])
    with conn.transaction():
        conn.execute(install_sql(str(row[0]), sequences))


def connect(url: str, *, application_name: str = "camaudit") -> psycopg.Connection[Any]:
    """An autocommit connection to the central store; the password comes from libpq (PGPASSWORD,
    ~/.pgpass, a service file), never from the URL, which may be logged or shown by ``ps``."""
    check_url(url)
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            application_name=application_name,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    except psycopg.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"central store {redact(url)}: could not connect: {text.replace(url, redact(url))}"
        ) from None
