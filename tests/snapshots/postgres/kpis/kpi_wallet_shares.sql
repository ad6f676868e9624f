DELETE FROM kpi_wallet_shares;
