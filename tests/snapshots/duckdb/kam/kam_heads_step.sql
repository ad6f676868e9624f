DROP TABLE IF EXISTS "kam_heads_step";
