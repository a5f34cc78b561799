-- The analytics job's tables. Outside tools read these names: add columns, never rename.

-- User profiles the analytics job's user-profile enricher reads (by user_id, through a cache).
CREATE TABLE users (
    user_id    text        PRIMARY KEY,
    country    char(2),
    plan       text,
    signup_at  timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per event type and minute of event time, upserted by every firing of its window
-- through the two-phase-commit sink. firing: the window's firing number (1 on time, +1 per late
-- re-firing); updates: writes the row received. Exactly once, the two are equal.
-- revenue_by_currency: purchases' revenue in minor units per ISO 4217 currency, never summed
-- across currencies ({} for other types).
CREATE TABLE analytics_minute (
    event_type          text        NOT NULL,
    window_start        timestamptz NOT NULL,
    events              bigint      NOT NULL CHECK (events > 0),
    unique_users        bigint      NOT NULL CHECK (unique_users > 0),
    revenue_by_currency jsonb       NOT NULL DEFAULT '{}',
    firing              int         NOT NULL CHECK (firing >= 1),
    updates             int         NOT NULL CHECK (updates >= 1),
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (event_type, window_start)
);

CREATE INDEX analytics_minute_window_start ON analytics_minute (window_start);
