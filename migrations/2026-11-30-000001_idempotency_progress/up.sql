-- Issue 9.2: a split send cut short by the rate limit records the platform ids of the parts that
-- went out (a JSON array), so a retry with the same Idempotency-Key sends only the rest.
-- state gains 'partial': no request holds the key, and the next one with the same body resumes.
ALTER TABLE idempotency_keys ADD COLUMN sent_ids TEXT;
