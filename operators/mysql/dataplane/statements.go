package dataplane

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// A backup's SQL files hold one statement after another, each ended by a line that
// holds only the delimiter ";;". The mysql client reads them as they are after
// "DELIMITER ;;" (the first line of every file), so a backup can also be loaded by
// hand; routine bodies, which contain ";" and newlines, need no escaping. Row values
// are escaped, so a data statement is one line.
const (
	statementDelimiter = ";;"
	statementsHeader   = "DELIMITER ;;\n"
)

// writeStatement appends one statement.
func writeStatement(w io.Writer, stmt string) error {
	if strings.Contains(stmt, "\n"+statementDelimiter+"\n") {
		return fmt.Errorf("a statement contains the delimiter line %q", statementDelimiter)
	}
	_, err := io.WriteString(w, stmt+"\n"+statementDelimiter+"\n")
	return err
}

// readStatements calls fn with every statement of a file written by writeStatement.
func readStatements(r io.Reader, fn func(stmt string) error) error {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 1<<20), 1<<30)
	var stmt bytes.Buffer
	first := true
	for s.Scan() {
		line := s.Text()
		if first {
			first = false
			if line+"\n" == statementsHeader {
				continue
			}
		}
		if line == statementDelimiter {
			if err := fn(stmt.String()); err != nil {
				return err
			}
			stmt.Reset()
			continue
		}
		if stmt.Len() > 0 {
			stmt.WriteByte('\n')
		}
		stmt.WriteString(line)
	}
	if err := s.Err(); err != nil {
		return err
	}
	if strings.TrimSpace(stmt.String()) != "" {
		return fmt.Errorf("the file ends inside a statement")
	}
	return nil
}

// sqlLiteral renders a column value for a data statement: NULL, or the exact bytes
// as a binary string. A binary string converts to any column type the way the
// server converts a string, and to a text column without transcoding; escaping \n
// and \r keeps the statement on one line.
func sqlLiteral(b *bytes.Buffer, v []byte) {
	if v == nil {
		b.WriteString("NULL")
		return
	}
	b.WriteString("_binary'")
	for _, c := range v {
		switch c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
}
