-- Foundation: flags, the append-only audit trail, API tokens, settings.

create table flags (
  key                  text primary key check (key ~ '^[a-z0-9][a-z0-9_.-]{0,127}$'),
  description          text not null default '',
  enabled              boolean not null default false,
  rollout_basis_points integer not null default 0 check (rollout_basis_points between 0 and 10000),
  allowlist            text[] not null default '{}' check (cardinality(allowlist) <= 10000),
  salt                 text not null,
  stickiness           text not null default 'id',
  version              integer not null default 1,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  updated_by           text,
  archived_at          timestamptz
);

create table audit_events (
  id          bigserial primary key,
  at          timestamptz not null default clock_timestamp(),
  actor       text not null,
  actor_role  text not null,
  actor_token_id text,
  action      text not null,
  flag_key    text,
  target      text,
  before      jsonb,
  after       jsonb,
  reason      text,
  request_id  text
);
create index audit_events_flag_key_idx on audit_events (flag_key, id desc);

-- The audit trail is evidence: nobody, not even Rampart itself, edits or deletes it.
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only (% rejected)', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_events_no_update_delete
  before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate
  before truncate on audit_events
  for each statement execute function audit_events_append_only();

create table api_tokens (
  id            text primary key,
  name          text not null,
  role          text not null check (role in ('SUPER_ADMIN', 'OPERATOR', 'VIEWER', 'SDK')),
  token_hash    text not null unique,
  created_at    timestamptz not null default now(),
  created_by    text,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

create table settings (
  key   text primary key,
  value text not null
);
