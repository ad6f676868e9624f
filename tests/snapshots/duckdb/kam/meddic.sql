DELETE FROM meddic WHERE source = 'import';
