-- Revocation on every replica at the next request. Each server process caches verified tokens
-- so that evaluation does not ask the database per request; a revocation must therefore know
-- that every replica has emptied that cache before it answers. Each running replica holds a
-- lease here, renewed every fifth of its length, and records the last revocation it has acted
-- on; a replica whose lease lapsed stops trusting its cache. Process bookkeeping, not user data:
-- snapshots, audit and exports ignore this table.

-- Bumped by every revocation, inside its transaction.
create table token_epoch (
  id     int primary key default 1 check (id = 1),
  epoch  bigint not null
);
insert into token_epoch (id, epoch) values (1, 0);

create table replica_leases (
  replica_id    text primary key,
  started_at    timestamptz not null default clock_timestamp(),
  lease_until   timestamptz not null,
  -- The token_epoch this replica's token cache reflects.
  tokens_epoch  bigint not null
);
