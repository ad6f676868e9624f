SELECT value AS product, CAST(floor(i / 62) AS INTEGER) AS word, CAST(i % 62 AS INTEGER) AS bit
FROM (SELECT value, row_number() OVER (ORDER BY value) - 1 AS i
      FROM (SELECT DISTINCT product AS value FROM deals WHERE product IS NOT NULL) v) n;
