-- Metric definitions: named metrics a monitor can read from an existing Prometheus through a
-- PromQL template instead of from Rampart's own rollups (design §5, §9).

create table metric_definitions (
  name            text primary key check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  kind            text not null check (kind in ('rate', 'distribution', 'counter', 'gauge')),
  source          text not null check (source in ('prometheus')),
  query_template  text not null check (char_length(query_template) between 1 and 10000),
  -- null: the server's default, RAMPART_PROMETHEUS_URL.
  prometheus_url  text,
  description     text not null default '',
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  updated_by      text,
  version         integer not null default 1
);
