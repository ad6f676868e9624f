DROP TABLE IF EXISTS "_hier_stake_ends";
