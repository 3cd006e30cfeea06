-- Version 6: ListPredictions pages oldest first, by (created_at, prediction_id).
CREATE INDEX IF NOT EXISTS predictions_created_at ON predictions (created_at, prediction_id);
