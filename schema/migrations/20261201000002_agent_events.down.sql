DROP TABLE IF EXISTS agent_events;
