DROP TABLE store_probe;
DELETE FROM idempotency_keys WHERE state = 'partial';
ALTER TABLE idempotency_keys DROP COLUMN sent_ids;
