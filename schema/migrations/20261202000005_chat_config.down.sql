DROP TABLE IF EXISTS agent_chat_presence;
DROP TABLE IF EXISTS chat_widgets;
DROP TABLE IF EXISTS chat_group_members;
DROP TABLE IF EXISTS chat_groups;
