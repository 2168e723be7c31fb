-- The widget's own visitor id, given when a conversation starts: help
-- articles the visitor opened in the widget before writing were recorded on
-- it, so the conversation's customer is the same person (and a read that
-- led to a chat does not count as deflected).
ALTER TABLE webchat_conversations ADD COLUMN visitor_id TEXT NOT NULL DEFAULT '';
