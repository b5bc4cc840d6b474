"""What a Supabase database has before the first migration runs, for the throwaway server.

A Supabase project's migrations grant to ``anon``/``authenticated``/``service_role``, write
RLS policies calling ``auth.uid()``, reference ``auth.users``, insert storage buckets and
call functions of the ``extensions`` schema (``uuid-ossp`` and ``pgcrypto`` live there).
:data:`SETUP_SQL` creates those roles, schemas, tables and functions (a subset shaped like
the hosted platform's, enough for migrations to apply), idempotently: roles are
cluster-wide and may already exist. Extensions only the Supabase platform ships
(:data:`PLATFORM_EXTENSIONS`) get, on request, a stand-in: their schema and the functions
migrations commonly call, doing nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

NAME = "supabase"

#: Extensions the platform has installed (in ``extensions``) before any migration.
PREINSTALLED = ("uuid-ossp", "pgcrypto")

ROLES = (
    ("anon", "NOLOGIN NOINHERIT"),
    ("authenticated", "NOLOGIN NOINHERIT"),
    ("service_role", "NOLOGIN NOINHERIT BYPASSRLS"),
    ("authenticator", "LOGIN NOINHERIT"),
    ("supabase_admin", "NOLOGIN CREATEROLE CREATEDB BYPASSRLS"),
    ("supabase_auth_admin", "NOLOGIN NOINHERIT CREATEROLE"),
    ("supabase_storage_admin", "NOLOGIN NOINHERIT CREATEROLE"),
    ("dashboard_user", "NOLOGIN CREATEROLE CREATEDB"),
    ("supabase_realtime_admin", "NOLOGIN NOINHERIT"),
)
API_ROLES = "anon, authenticated, service_role"


def roles_sql() -> str:
    """The platform's roles, created when missing (cluster-wide: by the server's admin)."""
    creates = "\n".join(
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {name} {options}; END IF;" for name, options in ROLES)
    return f"DO $mg$ BEGIN\n{creates}\nEND $mg$;\n" \
           "GRANT anon, authenticated, service_role TO authenticator;\n"


_SCHEMAS_SQL = f"""
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO {API_ROLES};
GRANT USAGE ON SCHEMA public TO {API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO {API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO {API_ROLES};

CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change varchar(255),
    email_change_token_new varchar(255),
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text UNIQUE,
    phone_confirmed_at timestamptz,
    confirmed_at timestamptz,
    banned_until timestamptz,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS auth.identities (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    email text,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz
);
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'sub'),
                '')::uuid
$$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.role', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'role'), '')
$$;
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.email', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'email'), '')
$$;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;
GRANT USAGE ON SCHEMA auth TO {API_ROLES};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO {API_ROLES};

CREATE SCHEMA IF NOT EXISTS storage;
CREATE TABLE IF NOT EXISTS storage.buckets (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    owner uuid,
    owner_id text,
    public boolean DEFAULT false,
    avif_autodetection boolean DEFAULT false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);
CREATE TABLE IF NOT EXISTS storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
    version text,
    user_metadata jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    last_accessed_at timestamptz DEFAULT now()
);
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT (string_to_array(name, '/'))[1:array_length(string_to_array(name, '/'), 1) - 1]
$$;
CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
$$;
CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT reverse(split_part(reverse(storage.filename(name)), '.', 1))
$$;
GRANT USAGE ON SCHEMA storage TO {API_ROLES};
GRANT ALL ON ALL TABLES IN SCHEMA storage TO {API_ROLES};

CREATE SCHEMA IF NOT EXISTS realtime;
DO $mg$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END $mg$;
"""

#: Extensions only the platform ships, with the stand-in each one gets on request.
STAND_IN_SQL: dict[str, str] = {
    "pg_cron": """
CREATE SCHEMA IF NOT EXISTS cron;
CREATE TABLE IF NOT EXISTS cron.job (
    jobid bigserial PRIMARY KEY, schedule text NOT NULL, command text NOT NULL,
    nodename text NOT NULL DEFAULT 'localhost', nodeport int NOT NULL DEFAULT 5432,
    database text NOT NULL DEFAULT current_database(), username text NOT NULL DEFAULT
    current_user, active boolean NOT NULL DEFAULT true, jobname text UNIQUE);
CREATE OR REPLACE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO cron.job (schedule, command) VALUES (schedule, command) RETURNING jobid $$;
CREATE OR REPLACE FUNCTION cron.schedule(job_name text, schedule text, command text)
RETURNS bigint LANGUAGE sql AS $$
  INSERT INTO cron.job (jobname, schedule, command) VALUES (job_name, schedule, command)
  ON CONFLICT (jobname) DO UPDATE SET schedule = excluded.schedule,
  command = excluded.command RETURNING jobid $$;
CREATE OR REPLACE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean
LANGUAGE sql AS $$ WITH gone AS (DELETE FROM cron.job WHERE jobid = job_id RETURNING 1)
  SELECT count(*) > 0 FROM gone $$;
CREATE OR REPLACE FUNCTION cron.unschedule(job_name text) RETURNS boolean
LANGUAGE sql AS $$ WITH gone AS (DELETE FROM cron.job WHERE jobname = job_name RETURNING 1)
  SELECT count(*) > 0 FROM gone $$;
""",
    "pg_net": """
CREATE SCHEMA IF NOT EXISTS net;
CREATE SEQUENCE IF NOT EXISTS net.request_ids;
CREATE OR REPLACE FUNCTION net.http_get(url text, params jsonb DEFAULT '{}',
    headers jsonb DEFAULT '{}', timeout_milliseconds int DEFAULT 5000) RETURNS bigint
LANGUAGE sql AS $$ SELECT nextval('net.request_ids') $$;
CREATE OR REPLACE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}',
    params jsonb DEFAULT '{}', headers jsonb DEFAULT '{"Content-Type": "application/json"}',
    timeout_milliseconds int DEFAULT 5000) RETURNS bigint
LANGUAGE sql AS $$ SELECT nextval('net.request_ids') $$;
CREATE OR REPLACE FUNCTION net.http_delete(url text, params jsonb DEFAULT '{}',
    headers jsonb DEFAULT '{}', timeout_milliseconds int DEFAULT 5000) RETURNS bigint
LANGUAGE sql AS $$ SELECT nextval('net.request_ids') $$;
""",
    "http": """
DO $mg$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_type WHERE typname = 'http_response'
                 AND typnamespace = 'extensions'::regnamespace) THEN
    CREATE TYPE extensions.http_response AS (status int, content_type text,
                                             headers jsonb, content text);
  END IF;
END $mg$;
CREATE OR REPLACE FUNCTION extensions.http_get(uri text) RETURNS extensions.http_response
LANGUAGE sql AS $$ SELECT ROW(200, 'text/plain', '[]'::jsonb, '')::extensions.http_response $$;
CREATE OR REPLACE FUNCTION extensions.http_post(uri text, content text, content_type text)
RETURNS extensions.http_response
LANGUAGE sql AS $$ SELECT ROW(200, 'text/plain', '[]'::jsonb, '')::extensions.http_response $$;
""",
    "wrappers": "",  # its foreign data wrappers need its handlers: nothing to stand in
    "pg_graphql": """
CREATE SCHEMA IF NOT EXISTS graphql;
CREATE OR REPLACE FUNCTION graphql.resolve(query text, variables jsonb DEFAULT '{}',
    "operationName" text DEFAULT NULL, extensions jsonb DEFAULT NULL) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
""",
    "pgsodium": "CREATE SCHEMA IF NOT EXISTS pgsodium;\n",
    "supabase_vault": """
CREATE SCHEMA IF NOT EXISTS vault;
CREATE TABLE IF NOT EXISTS vault.secrets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text UNIQUE, description text,
    secret text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE VIEW vault.decrypted_secrets AS
  SELECT *, secret AS decrypted_secret FROM vault.secrets;
CREATE OR REPLACE FUNCTION vault.create_secret(new_secret text, new_name text DEFAULT NULL,
    new_description text DEFAULT '') RETURNS uuid
LANGUAGE sql AS $$ INSERT INTO vault.secrets (secret, name, description)
  VALUES (new_secret, new_name, new_description) RETURNING id $$;
""",
    "pgjwt": """
CREATE OR REPLACE FUNCTION extensions.sign(payload json, secret text,
    algorithm text DEFAULT 'HS256') RETURNS text
LANGUAGE sql AS $$ SELECT 'stand-in.' || md5(payload::text || secret) $$;
CREATE OR REPLACE FUNCTION extensions.verify(token text, secret text,
    algorithm text DEFAULT 'HS256') RETURNS TABLE(header json, payload json, valid boolean)
LANGUAGE sql AS $$ SELECT '{}'::json, '{}'::json, false $$;
""",
}
PLATFORM_EXTENSIONS = tuple(STAND_IN_SQL)


def database_sql(stand_ins: Iterable[str] = ()) -> str:
    """The platform's schemas, tables and functions, then the chosen stand-ins, then the
    ``extensions`` schema on the search path (this session's and the database's)."""
    parts = [_SCHEMAS_SQL, *(STAND_IN_SQL[name] for name in stand_ins)]
    parts.append(
        "SELECT set_config('search_path', '\"$user\", public, extensions', false);\n"
        "DO $mg$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path TO "
        "\"$user\", public, extensions', current_database()); END $mg$;\n")
    return "\n".join(parts)


def seed_globs(migrations_dir: str, config_toml: bytes | None) -> tuple[str, ...]:
    """The seed files the CLI runs after the migrations: ``[db.seed] sql_paths`` of
    ``supabase/config.toml`` (relative to the ``supabase`` directory), default
    ``seed.sql``; none when seeding is disabled there."""
    base = posixpath.dirname(migrations_dir)
    paths: list[str] = ["./seed.sql"]
    if config_toml is not None:
        import tomllib

        try:
            seed = tomllib.loads(config_toml.decode("utf-8", errors="replace")).get(
                "db", {}).get("seed", {})
        except tomllib.TOMLDecodeError:
            seed = {}
        if seed.get("enabled") is False:
            return ()
        if isinstance(seed.get("sql_paths"), list):
            paths = [str(p) for p in seed["sql_paths"]]
    return tuple(posixpath.normpath(posixpath.join(base, p)) for p in paths)


def platform_hint(names: list[str]) -> str:
    """The ways to apply migrations that create platform-only extensions."""
    return (f"{', '.join(names)} ship{'s' if len(names) == 1 else ''} only with the "
            "platform's own PostgreSQL: give a server URL of the supabase/postgres image with "
            "--database-url, or list them under postgres.stand_ins to apply with stand-ins "
            "that do nothing")
