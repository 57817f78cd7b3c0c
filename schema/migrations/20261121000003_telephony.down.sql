DROP TABLE IF EXISTS calls, call_offers, agent_telephony, call_groups;
