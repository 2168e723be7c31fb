-- Staffing forecasts count the inbound contacts of recent weeks by time of
-- day. Passive touches (page views, the bulk of ingest) are outside this
-- partial index and do not pay for it.
CREATE INDEX interactions_inbound_time ON interactions (occurred_at) WHERE direction = 'inbound';
