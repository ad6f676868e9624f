DROP TABLE IF EXISTS "_hier_cut";
