DELETE FROM kam_deal_stages;

INSERT INTO kam_deal_stages (deal_id, stage, since) SELECT deal_id, stage, since FROM kam_deal_stages_step;
