DROP TABLE IF EXISTS kam_sentiment_step;

CREATE TABLE kam_sentiment_step (contact_id VARCHAR, sentiment VARCHAR);

DROP TABLE kam_sentiment_step;
