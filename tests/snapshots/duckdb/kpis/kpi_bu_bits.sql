SELECT value AS seller_bu, CAST(floor(i / 62) AS INTEGER) AS word, CAST(i % 62 AS INTEGER) AS bit
FROM (SELECT value, row_number() OVER (ORDER BY value) - 1 AS i
      FROM (SELECT DISTINCT seller_bu AS value FROM deals WHERE seller_bu IS NOT NULL) v) n;
