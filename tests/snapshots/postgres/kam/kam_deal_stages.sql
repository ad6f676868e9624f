SELECT deal_id, stage, since FROM kam_deal_stages_step;
