-- Rollout plans: ordered stages that advance on evidence and roll back by themselves.

create table rollout_plans (
  id                text primary key,
  flag_key          text not null,
  template          text,
  -- [{ percentage, minDwellMinutes, minSample, gate: 'auto' | 'approval', thresholds? }]
  stages            jsonb not null,
  -- Checkpoint cadence while the plan runs (cron, UTC).
  cadence           text not null default '0 * * * *',
  rollback_policy   text not null check (rollback_policy in ('disable', 'zero', 'previous', 'halve')),
  max_extensions    integer not null default 3 check (max_extensions >= 0),
  max_data_errors   integer not null default 3 check (max_data_errors >= 1),
  state             text not null check (state in ('active', 'paused', 'rolling_back', 'rolled_back', 'completed', 'aborted')),
  current_stage     integer not null default 0,
  stage_started_at  timestamptz not null default now(),
  awaiting_approval boolean not null default false,
  extensions_used   integer not null default 0,
  data_errors       integer not null default 0,
  last_passed_stage integer,
  rollback_reason   text,
  -- From the checkpoint that triggered a rollback to the flag at its rollback target.
  last_rollback_ms  integer,
  version           integer not null default 1,
  created_at        timestamptz not null default now(),
  created_by        text not null,
  updated_at        timestamptz not null default now(),
  updated_by        text not null,
  ended_at          timestamptz
);
-- One live plan per flag.
create unique index rollout_plans_one_live on rollout_plans (flag_key) where state in ('active', 'paused', 'rolling_back');
create index rollout_plans_flag_idx on rollout_plans (flag_key, created_at desc);

create table plan_templates (
  name            text primary key check (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  description     text not null default '',
  stages          jsonb not null,
  cadence         text not null default '0 * * * *',
  rollback_policy text not null check (rollback_policy in ('disable', 'zero', 'previous', 'halve')),
  builtin         boolean not null default false,
  created_by      text not null,
  created_at      timestamptz not null default now()
);
