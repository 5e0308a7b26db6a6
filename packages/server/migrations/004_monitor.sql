-- The watchdog: per-flag settings, operator signals, and checkpoints with their reports.

create table monitor_settings (
  flag_key         text primary key,
  -- A cron expression (UTC), or 'off'. Hourly by default.
  schedule         text not null default '0 * * * *',
  -- Explicit probe ids; null means two allowlist members plus the synthetic ids.
  probe_ids        text[],
  synthetic_probes integer not null default 1000 check (synthetic_probes between 0 and 100000),
  recent_hours     integer not null default 6 check (recent_hours between 1 and 168),
  thresholds       jsonb,
  updated_at       timestamptz not null default now(),
  updated_by       text
);

create table operator_signals (
  id         bigserial primary key,
  flag_key   text not null,
  at         timestamptz not null default clock_timestamp(),
  actor      text not null,
  complaints integer not null default 0 check (complaints >= 0),
  critical   boolean not null default false,
  severity   text not null default 'info' check (severity in ('info', 'warning', 'critical')),
  note       text
);
create index operator_signals_flag_idx on operator_signals (flag_key, at desc);

create table checkpoints (
  id            text primary key,
  flag_key      text not null,
  at            timestamptz not null default clock_timestamp(),
  -- For scheduled runs: the slot it ran for, unique, so replicas never run one slot twice.
  scheduled_for timestamptz,
  trigger       text not null check (trigger in ('schedule', 'manual', 'api', 'missed')),
  actor         text not null,
  phase         text,
  label         text,
  status        text not null check (status in ('PASS', 'WARN', 'FAIL', 'MISSED')),
  health        text check (health in ('GREEN', 'YELLOW', 'RED')),
  decision      text check (decision in ('GO', 'EXTEND', 'NO_GO')),
  config        jsonb,
  expected      jsonb,
  determinism   jsonb,
  metrics       jsonb,
  judgement     jsonb,
  alerts        jsonb not null default '[]',
  report        text,
  duration_ms   integer
);
create index checkpoints_flag_idx on checkpoints (flag_key, at desc);
create unique index checkpoints_slot_idx on checkpoints (flag_key, scheduled_for) where scheduled_for is not null;
