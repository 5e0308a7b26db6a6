-- Scheduled flag changes: enable, disable or set a percentage at a time in the future.
-- Each replica's scheduler claims a due change with a conditional update (state 'pending' →
-- 'applied'), so a change is applied at most once however many replicas run.

create table scheduled_changes (
  id           text primary key,
  flag_key     text not null,
  at           timestamptz not null,
  -- { enabled?, rolloutPercentage? }, at least one of them.
  change       jsonb not null check (jsonb_typeof(change) = 'object' and (change ? 'enabled' or change ? 'rolloutPercentage')),
  reason       text,
  state        text not null default 'pending' check (state in ('pending', 'applied', 'cancelled', 'failed')),
  created_by   text not null,
  created_at   timestamptz not null default now(),
  -- When the scheduler processed it (applied or failed).
  applied_at   timestamptz,
  cancelled_by text,
  cancelled_at timestamptz,
  -- Applied: { version, changed }; failed: { error, code?, planId? }.
  result       jsonb
);
create index scheduled_changes_due_idx on scheduled_changes (at, created_at) where state = 'pending';
create index scheduled_changes_flag_idx on scheduled_changes (flag_key, at);
