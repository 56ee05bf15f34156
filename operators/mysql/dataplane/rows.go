package dataplane

import (
	"context"
	"database/sql"
)

// queryer is a connection pool or one connection of it.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRows reads a small result as column → value maps: replica status and SHOW
// statements, whose column sets differ between flavors and versions.
func queryRows(ctx context.Context, q queryer, query string, args ...any) ([]map[string]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for rows.Next() {
		values := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := make(map[string]string, len(cols)+1)
		for i, c := range cols {
			r[c] = values[i].String
		}
		r[firstColumnKey] = values[0].String
		out = append(out, r)
	}
	return out, rows.Err()
}

// firstColumnKey holds the first column of a row: SHOW GRANTS and SHOW CREATE USER
// name their only column after the account, SHOW BINARY LOGS differs by version.
const firstColumnKey = "\x00first"

func firstColumn(r map[string]string) string { return r[firstColumnKey] }
