SELECT DISTINCT source FROM registry_entities UNION SELECT DISTINCT source FROM registry_links ORDER BY 1;
