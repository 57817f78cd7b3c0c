#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases if missing and brings their schema to
# the server's version: run by `make test-cluster` (scripts/cluster.sh) with the schema files of
# the pinned server module, and by docker-compose.yml in the temporalio/admin-tools image (whose
# defaults are below). Safe to run again: setup-schema -v 0.0 leaves a set-up database alone and
# update-schema applies only what is missing. Reads the variables scripts/cluster/temporal.yaml
# reads, plus TEMPORAL_SQL_TOOL and TEMPORAL_SCHEMA_DIR.
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

setup() { # setup DB KIND
  set -- "$1" "$2" --plugin postgres12 --ep "${TEMPORAL_DB_HOST:-127.0.0.1}" -p "${TEMPORAL_DB_PORT:-5432}" \
    -u "${TEMPORAL_DB_USER:-postgres}" --pw "${TEMPORAL_DB_PASSWORD:-}" --db "$1"
  db="$1" kind="$2"
  shift 2
  # create fails when the database exists, which is the normal case on a restart.
  "$tool" "$@" create || echo "setup-schema.sh: database $db exists"
  "$tool" "$@" setup-schema -v 0.0
  "$tool" "$@" update-schema -d "$schema/$kind/versioned"
}

setup "${TEMPORAL_DB:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
