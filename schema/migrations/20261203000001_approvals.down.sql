DROP TABLE IF EXISTS approval_delegations;
DROP TABLE IF EXISTS approval_links;
DROP TABLE IF EXISTS approval_requests;
DROP TABLE IF EXISTS approval_rules;
ALTER TABLE persons DROP COLUMN IF EXISTS job_role;
DROP TABLE IF EXISTS job_roles;
