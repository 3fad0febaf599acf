#!/usr/bin/env bash
# Restore the MLflow registry from a folder written by scripts/backup.sh.
#
#   MLFLOW_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mlflow \
#   MLFLOW_ARTIFACTS_DIR=/var/lib/mlflow/artifacts \
#   scripts/restore.sh /var/backups/yonca/mlflow-20260101T020000Z [--force]
#
# Checks the backup's checksums, creates the database when it is missing and
# loads the dump into it, then unpacks the artifacts into MLFLOW_ARTIFACTS_DIR.
# A database that already holds tables, or a non-empty artifact folder, is
# left alone unless --force is given: then the database is dropped and
# recreated, and the old artifact folder is moved aside, not deleted.
# Stop the MLflow server (and the gatekeeper) first; --force drops live sessions.
set -euo pipefail

die() {
    echo "restore: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 BACKUP_DIR [--force]" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
backup="${1%/}"
force=false
if [ $# -eq 2 ]; then
    [ "$2" = "--force" ] || usage
    force=true
fi
: "${MLFLOW_DATABASE_URL:?set MLFLOW_DATABASE_URL to the registry database URL}"
: "${MLFLOW_ARTIFACTS_DIR:?set MLFLOW_ARTIFACTS_DIR to the artifact folder}"

for tool in pg_restore psql python3; do
    command -v "$tool" >/dev/null || die "$tool not found; install it first."
done
for part in database.dump artifacts.tar.gz SHA256SUMS; do
    [ -f "$backup/$part" ] \
        || die "$backup/$part is missing; is $backup a backup folder?"
done
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) \
    || die "checksums in $backup/SHA256SUMS do not match; the backup is damaged."

db_url="$(printf '%s' "$MLFLOW_DATABASE_URL" \
    | sed -E 's#^postgres(ql)?\+[a-z0-9]+://#postgresql://#')"
# The database's name, and the same server's maintenance database to create it from.
read -r db_name admin_url < <(python3 - "$db_url" <<'PY'
import sys
from urllib.parse import unquote, urlsplit

url = urlsplit(sys.argv[1])
print(unquote(url.path.lstrip("/")), url._replace(path="/postgres").geturl())
PY
)
[ -n "$db_name" ] || die "MLFLOW_DATABASE_URL names no database."

admin() {
    psql --dbname "$admin_url" --no-psqlrc --quiet --tuples-only --no-align \
        --set ON_ERROR_STOP=1 "$@"
}

exists="$(admin --set name="$db_name" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'name';
SQL
)"
if [ "$exists" = "1" ]; then
    tables="$(psql --dbname "$db_url" --no-psqlrc --tuples-only --no-align -c \
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")"
    if [ "$tables" != "0" ] && [ "$force" != true ]; then
        die "database $db_name already holds $tables tables; restore with --force \
to replace it (it is dropped first)."
    fi
    if [ "$force" = true ]; then
        admin --set name="$db_name" <<'SQL'
DROP DATABASE :"name" WITH (FORCE);
SQL
        exists=0
    fi
fi
if [ "$exists" != "1" ]; then
    admin --set name="$db_name" <<'SQL'
CREATE DATABASE :"name";
SQL
fi

pg_restore --dbname "$db_url" --no-owner --no-privileges --exit-on-error \
    --single-transaction "$backup/database.dump" \
    || die "pg_restore failed (see above); the database $db_name may be empty."
echo "restore: database $db_name restored" >&2

artifacts="${MLFLOW_ARTIFACTS_DIR%/}"
if [ -d "$artifacts" ] && [ -n "$(ls -A "$artifacts")" ]; then
    [ "$force" = true ] || die "artifact folder $artifacts is not empty; restore \
with --force to move it aside."
    aside="${artifacts}.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    mv "$artifacts" "$aside"
    echo "restore: previous artifacts moved to $aside" >&2
fi
mkdir -p "$artifacts"
tar --extract --gzip --file "$backup/artifacts.tar.gz" --directory "$artifacts" \
    || die "could not unpack the artifacts into $artifacts (see above)."
echo "restore: artifacts restored into $artifacts" >&2
