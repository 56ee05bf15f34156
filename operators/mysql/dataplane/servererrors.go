package dataplane

import (
	"errors"

	"github.com/go-sql-driver/mysql"
)

// The server's error numbers the data plane acts on.
const (
	errAccessDenied    = 1045 // a failed login: wrong password or no such account
	errUnknownThread   = 1094 // KILL of a session that has ended meanwhile
	errLockWaitTimeout = 1205
	errDeadlock        = 1213
)

// isServerError reports whether the server answered err with one of numbers.
func isServerError(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}
