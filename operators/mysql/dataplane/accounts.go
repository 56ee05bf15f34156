package dataplane

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Account names the operator creates on every member. Only their passwords are secret;
// they come from the cluster's credentials Secret.
const (
	OperatorUser    = "stowage_operator"
	ReplicationUser = "stowage_repl"
	MonitorUser     = "stowage_monitor"
	// AdminUser is the administrator account handed to the cluster's users
	// ('root'@'%'); its password is the Secret's root password.
	AdminUser = "root"
)

// Accounts are the credentials the data-plane manager uses. Root is used only to
// create the other accounts on a member that lacks them (its first contact with a
// freshly initialised member); every other statement runs as Operator.
type Accounts struct {
	Root        Credentials
	Operator    Credentials
	Replication Credentials
	Monitor     Credentials
}

// NewAccounts names the operator's accounts with the passwords from the Secret.
func NewAccounts(rootPassword, operatorPassword, replicationPassword, monitorPassword string) Accounts {
	return Accounts{
		Root:        Credentials{User: AdminUser, Password: rootPassword},
		Operator:    Credentials{User: OperatorUser, Password: operatorPassword},
		Replication: Credentials{User: ReplicationUser, Password: replicationPassword},
		Monitor:     Credentials{User: MonitorUser, Password: monitorPassword},
	}
}

// accountStatements create or update the operator's accounts on one member. They are
// not binlogged: every member creates them itself, and a binlogged CREATE USER would
// be a transaction of this member's own that the others lack (an errant transaction
// the moment it replicates).
func accountStatements(f Flavor, a Accounts) []string {
	stmts := []string{"SET SESSION sql_log_bin = 0"}
	for _, acc := range []struct {
		cred   Credentials
		grants string
	}{
		{a.Operator, "ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION"},
		{a.Replication, "REPLICATION SLAVE ON *.* TO %s"},
		{a.Monitor, f.MonitorGrants() + " ON *.* TO %s"},
	} {
		user := quoteString(acc.cred.User) + "@'%'"
		stmts = append(stmts,
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s", user, quoteString(acc.cred.Password)),
			// ALTER as well, so a changed Secret takes effect on an existing account.
			fmt.Sprintf("ALTER USER %s IDENTIFIED BY %s", user, quoteString(acc.cred.Password)),
			fmt.Sprintf("GRANT "+acc.grants, user),
		)
	}
	return append(stmts, f.RestrictAdmin(quoteString(a.Root.User)+"@'%'")...)
}

// createAccounts logs in as root once and creates the operator's accounts.
func (m *Member) createAccounts(ctx context.Context) error {
	c := m.config.Clone()
	c.User, c.Passwd = m.accounts.Root.User, m.accounts.Root.Password
	connector, err := mysql.NewConnector(c)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("logging in to %s as %s to create the operator's accounts: %w", m.Name, m.accounts.Root.User, err)
	}
	defer conn.Close()
	for i, s := range accountStatements(m.flavor, m.accounts) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: creating accounts, statement %d: %w", m.Name, i+1, err)
		}
	}
	return nil
}

// sessionsToEnd selects the sessions fencing ends: every application session, so that
// none still holds privileges it had before the member was fenced. The operator's,
// replication's and the server's own sessions stay.
func sessionsToEnd(a Accounts) string {
	keep := []string{quoteString(a.Operator.User), quoteString(a.Replication.User), quoteString(a.Monitor.User),
		"'system user'", "'event_scheduler'", "'DELAYED'"}
	return fmt.Sprintf("SELECT ID FROM information_schema.PROCESSLIST WHERE USER NOT IN (%s) AND ID <> CONNECTION_ID()",
		strings.Join(keep, ", "))
}
