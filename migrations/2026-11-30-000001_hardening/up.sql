-- Issue 9.2: a split send cut short by the rate limit records the platform ids of the parts that
-- went out (a JSON array), so a retry with the same Idempotency-Key sends only the rest.
-- state gains 'partial': no request holds the key, and the next one with the same body resumes.
ALTER TABLE idempotency_keys ADD COLUMN sent_ids TEXT;

-- Issue 9.3: `/ready` proves the database takes a write by updating this one row (an empty
-- transaction writes nothing, so it succeeds on a full disk).
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms BIGINT NOT NULL
);
