-- Accounts, refresh tokens, and the append-only vehicle event log.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL CHECK (email <> '' AND email = lower(email)),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('VIEWER', 'STAFF', 'ADMIN')),
    dealer_id     bigint      REFERENCES dealers (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- STAFF work for exactly one dealer; nobody else belongs to one.
    CHECK ((role = 'STAFF') = (dealer_id IS NOT NULL))
);
-- Emails are stored lower-cased, so this is case-insensitive uniqueness.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_dealer_id_idx ON users (dealer_id);

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a
-- family; every refresh replaces its token with the next of the same family,
-- and presenting a replaced token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea       NOT NULL,
    family      uuid        NOT NULL,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    replaced_at timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);

-- The event sequence is handed out by updating this one row inside the
-- writing transaction. The row lock is held until commit, so events commit
-- in sequence order: a reader that has seen sequence S has seen everything
-- before S (an identity column could commit 11 before 10 and lose 10 for a
-- subscriber resuming "after 11").
CREATE TABLE vehicle_event_sequence (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last     bigint  NOT NULL
);
INSERT INTO vehicle_event_sequence (last) VALUES (0);

CREATE TABLE vehicle_events (
    sequence   bigint      PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('CREATED', 'UPDATED', 'DELETED')),
    -- No foreign key: the log outlives deleted vehicles.
    vehicle_id bigint      NOT NULL,
    -- The vehicle as it was after the change (before it, for DELETED).
    snapshot   jsonb       NOT NULL,
    -- For UPDATED, the vehicle right before the change: subscribers filtering
    -- on, say, status AVAILABLE still hear about the car that just sold.
    previous   jsonb,
    actor_id   bigint      REFERENCES users (id) ON DELETE SET NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
-- A vehicle's history, in order.
CREATE INDEX vehicle_events_vehicle_sequence_idx ON vehicle_events (vehicle_id, sequence);

-- The log is append-only.
CREATE FUNCTION vehicle_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vehicle_events is append-only';
END;
$$;
CREATE TRIGGER vehicle_events_append_only BEFORE UPDATE OR DELETE ON vehicle_events
    FOR EACH ROW EXECUTE FUNCTION vehicle_events_append_only();

-- Wake listeners on commit (NOTIFY is transactional: a rolled-back write
-- notifies no one). The payload is only the sequence: listeners read the
-- event table, which is the truth, and payloads are capped at 8000 bytes.
CREATE FUNCTION vehicle_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vehicle_events', NEW.sequence::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER vehicle_events_notify AFTER INSERT ON vehicle_events
    FOR EACH ROW EXECUTE FUNCTION vehicle_events_notify();
