DROP TABLE IF EXISTS "_hier_tree_cut";
