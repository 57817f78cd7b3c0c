-- claimed_at: when a message naming the upload was accepted by the API. The upload's expiry
-- keeps it for AttachmentClaimHold after that, so a message still being written (PostgreSQL
-- slow, the projection retrying) never loses its file to the expiry.
ALTER TABLE attachments ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
