# mkdb.sh - the report tests' fixture databases, built with
# tests/system/report_mkdb.c (or $REPORT_MKDB, prebuilt).  Sourced with
# the repository as the current directory.

# mkdb_build DIR: sets MKDB, built into DIR unless REPORT_MKDB is set.
mkdb_build() {
	MKDB=${REPORT_MKDB:-}
	[ -n "$MKDB" ] && return 0
	MKDB=$1/report_mkdb
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude -Istored -o "$MKDB" \
	    tests/system/report_mkdb.c stored/schema.c \
	    $(pkg-config --cflags --libs sqlite3 2>/dev/null || echo -lsqlite3) ||
	    { echo "Bail out! cannot build report_mkdb"; exit 1; }
}

# mkdb_fixture DB SQL: DB made from the statements in file SQL.
mkdb_fixture() {
	"$MKDB" "$1" < "$2" ||
	    { echo "Bail out! cannot build the fixture database $1"; exit 1; }
}
