SELECT count(*) FROM leads;
