DROP TABLE IF EXISTS "_hier_round";
