#!/usr/bin/env bash
# Back up the MLflow registry: its PostgreSQL database and its artifact folder.
#
#   MLFLOW_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mlflow \
#   MLFLOW_ARTIFACTS_DIR=/var/lib/mlflow/artifacts \
#   scripts/backup.sh /var/backups/yonca
#
# Writes DEST/mlflow-<UTC timestamp>/ with database.dump (pg_dump custom
# format), artifacts.tar.gz and SHA256SUMS, and prints that folder's path as
# the last line. Restore it with scripts/restore.sh.
#
#   MLFLOW_DATABASE_URL   the backend store; an MLflow URI such as
#                         postgresql+psycopg://... is accepted as it is
#   MLFLOW_ARTIFACTS_DIR  the server's --artifacts-destination folder
#   BACKUP_KEEP           how many backups to keep in DEST (default 14; 0 keeps all)
#
# The artifact folder must be a filesystem path: an S3 artifact store is
# protected by bucket versioning and replication, not by this script.
set -euo pipefail

die() {
    echo "backup: $*" >&2
    exit 1
}

[ $# -eq 1 ] || { echo "usage: $0 DEST_DIR" >&2; exit 2; }
dest_root="$1"
: "${MLFLOW_DATABASE_URL:?set MLFLOW_DATABASE_URL to the registry database URL}"
: "${MLFLOW_ARTIFACTS_DIR:?set MLFLOW_ARTIFACTS_DIR to the artifact folder}"
keep="${BACKUP_KEEP:-14}"

command -v pg_dump >/dev/null \
    || die "pg_dump not found; install the PostgreSQL client."
[ -d "$MLFLOW_ARTIFACTS_DIR" ] \
    || die "artifact folder $MLFLOW_ARTIFACTS_DIR does not exist; check MLFLOW_ARTIFACTS_DIR."

# libpq does not know SQLAlchemy's driver suffix (postgresql+psycopg://).
db_url="$(printf '%s' "$MLFLOW_DATABASE_URL" \
    | sed -E 's#^postgres(ql)?\+[a-z0-9]+://#postgresql://#')"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="${dest_root%/}/mlflow-${stamp}"
[ -e "$target" ] && die "$target already exists; wait a second and retry."
mkdir -p "$target"
partial="$target"
trap '[ -n "$partial" ] && rm -rf "$partial"' EXIT

# The database first: every artifact it names was written before the dump
# began, so the artifact copy taken afterwards holds them all.
pg_dump --dbname "$db_url" --format custom --no-owner --no-privileges \
    --file "$target/database.dump" \
    || die "pg_dump failed for the database in MLFLOW_DATABASE_URL (see above)."
tar --create --gzip --file "$target/artifacts.tar.gz" \
    --directory "$MLFLOW_ARTIFACTS_DIR" . \
    || die "could not archive $MLFLOW_ARTIFACTS_DIR (see above)."

{
    echo "created=${stamp}"
    echo "artifacts_dir=$(cd "$MLFLOW_ARTIFACTS_DIR" && pwd)"
    echo "pg_dump=$(pg_dump --version)"
} > "$target/MANIFEST"
(cd "$target" && sha256sum database.dump artifacts.tar.gz MANIFEST > SHA256SUMS)
partial=""

if [ "$keep" -gt 0 ]; then
    # Timestamped names sort in time order; remove all but the newest $keep.
    find "$dest_root" -maxdepth 1 -type d -name 'mlflow-*' | sort | head -n "-$keep" \
        | while read -r old; do rm -rf "$old"; done
fi

echo "backup: database $(du -h "$target/database.dump" | cut -f1), artifacts \
$(du -h "$target/artifacts.tar.gz" | cut -f1)" >&2
echo "$target"
