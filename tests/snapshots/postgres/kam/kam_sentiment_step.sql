DROP TABLE IF EXISTS kam_sentiment_step;

CREATE TABLE kam_sentiment_step (contact_id TEXT, sentiment TEXT);

DROP TABLE kam_sentiment_step;
