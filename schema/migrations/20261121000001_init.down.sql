DROP TABLE IF EXISTS idempotency_keys, audit_log, ticket_owner_history, ticket_status_history,
    ticket_actions, tickets, statuses, api_tokens, team_members, teams, persons;
DROP SEQUENCE IF EXISTS ticket_id_seq;
