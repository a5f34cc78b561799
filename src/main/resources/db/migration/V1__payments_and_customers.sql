-- The payments job's tables. Outside tools read these names: add columns, never rename.

CREATE TABLE customers (
    customer_id       text        PRIMARY KEY,
    status            text        NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'BLOCKED')),
    daily_limit_minor bigint      NOT NULL CHECK (daily_limit_minor >= 0),
    currency          char(3)     NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per COMPLETED or DECLINED payment, written by the two-phase-commit sink.
-- payment_id is derived from (customer_id, idempotency_key), so a replay writes the same key;
-- the unique constraint is the second guard behind the sink's own exactly-once commits.
-- No foreign key to customers: a customer removed later must not make replays fail.
CREATE TABLE payments (
    payment_id        uuid        PRIMARY KEY,
    customer_id       text        NOT NULL,
    idempotency_key   text        NOT NULL,
    merchant_id       text        NOT NULL,
    amount_minor      bigint      NOT NULL CHECK (amount_minor > 0),
    currency          char(3)     NOT NULL,
    status            text        NOT NULL CHECK (status IN ('COMPLETED', 'DECLINED')),
    decline_reason    text,
    gateway_reference text,
    requested_at      timestamptz NOT NULL,
    processed_at      timestamptz NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  int         NOT NULL,
    source_offset     bigint      NOT NULL,
    UNIQUE (customer_id, idempotency_key)
);

CREATE INDEX payments_customer_requested_at ON payments (customer_id, requested_at);
