DELETE FROM "api_read_model_edits";
