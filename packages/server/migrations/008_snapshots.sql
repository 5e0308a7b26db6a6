-- Snapshots: the live configuration (flags, allowlists, live plans, recent checkpoints) captured
-- before a risky change, so it can be compared with the live state and restored in one step.

create table snapshots (
  id             text primary key,
  label          text,
  reason         text,
  created_at     timestamptz not null default clock_timestamp(),
  created_by     text not null,
  server_version text not null,
  -- { format, capturedAt, serverVersion, flags: [...], plans: [...], checkpoints: { key: [...] } }
  content        jsonb not null
);
create index snapshots_created_idx on snapshots (created_at desc, id desc);
