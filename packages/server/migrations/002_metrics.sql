-- Metrics: per-minute and per-hour rollups per (flag, metric, cohort), idempotent batches,
-- the registry of metric names (kind and cardinality), and baselines.

-- Sparse histograms are jsonb objects {bucket index: count}; adding two is adding per key.
create function rampart_hist_add(a jsonb, b jsonb) returns jsonb language sql immutable as $$
  select case
    when a is null then b
    when b is null then a
    else (select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
          from (select key as k, sum(value::bigint) as n
                from (select * from jsonb_each_text(a) union all select * from jsonb_each_text(b)) e
                group by key) s)
  end
$$;

create table metric_names (
  flag_key   text not null,
  metric     text not null,
  kind       text not null check (kind in ('counter', 'rate', 'distribution')),
  first_seen timestamptz not null default now(),
  primary key (flag_key, metric)
);

create table metric_rollups_minute (
  flag_key  text not null,
  metric    text not null,
  cohort    text not null check (cohort in ('exposed', 'control', 'allowlist', 'off')),
  minute    timestamptz not null,
  count     bigint not null,
  sum       double precision not null,
  histogram jsonb,
  primary key (flag_key, metric, cohort, minute)
);

-- Kept up to date at ingest alongside the minutes, so windows of days read a few hundred rows
-- and minute rows can be dropped after their retention without changing any total.
create table metric_rollups_hour (
  flag_key  text not null,
  metric    text not null,
  cohort    text not null check (cohort in ('exposed', 'control', 'allowlist', 'off')),
  hour      timestamptz not null,
  count     bigint not null,
  sum       double precision not null,
  histogram jsonb,
  primary key (flag_key, metric, cohort, hour)
);

create table ingest_batches (
  idempotency_key text primary key,
  received_at     timestamptz not null default now(),
  events          bigint not null
);
create index ingest_batches_received_idx on ingest_batches (received_at);

create table baselines (
  id           text primary key,
  flag_key     text not null,
  mode         text not null check (mode in ('pre_rollout', 'window', 'weekly')),
  window_from  timestamptz not null,
  window_to    timestamptz not null,
  weeks        integer,
  captured_at  timestamptz not null default now(),
  captured_by  text not null,
  summary      jsonb not null
);
create index baselines_flag_idx on baselines (flag_key, captured_at desc);
