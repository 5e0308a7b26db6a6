-- Notifications (design §6.7): channels a SUPER_ADMIN manages, the last verdict each flag was
-- notified with (so a verdict is announced once, however many replicas run checkpoints), and
-- every delivery attempt, as a record of what was sent where.

create table notification_channels (
  id          text primary key check (id ~ '^nc_[A-Za-z0-9_-]+$'),
  name        text not null check (char_length(name) between 1 and 200),
  type        text not null check (type in ('webhook', 'slack', 'email')),
  -- webhook: {url, secret?}; slack: {url}; email: {to: [...], from?}. Secrets live here and
  -- are never returned by the API.
  config      jsonb not null,
  -- null: every flag.
  flag_keys   text[],
  enabled     boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  updated_by  text
);

create table notification_state (
  flag_key            text primary key,
  last_verdict        text not null check (last_verdict in ('PASS', 'WARN', 'FAIL')),
  last_health         text not null check (last_health in ('GREEN', 'YELLOW', 'RED')),
  -- null: the verdict was recorded without a notification (a first checkpoint that passed).
  last_notified_at    timestamptz,
  last_checkpoint_id  text
);

create table notification_deliveries (
  id             bigserial primary key,
  channel_id     text not null references notification_channels (id) on delete cascade,
  event          text not null check (event in ('checkpoint.verdict_changed', 'checkpoint.still_red', 'test')),
  -- null for test messages.
  flag_key       text,
  checkpoint_id  text,
  attempt        integer not null check (attempt >= 1),
  status         text not null check (status in ('sent', 'failed')),
  error          text,
  at             timestamptz not null default clock_timestamp()
);
create index notification_deliveries_channel_idx on notification_deliveries (channel_id, id desc);
