package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// A Redis backup is an RDB snapshot taken over the replication protocol, as a replica
// would receive it (and as `redis-cli --rdb` does): the backup job connects to a
// member, asks for an RDB only (REPLCONF rdb-only), and the member forks, writes the
// snapshot to the socket and stays untouched otherwise — no file in its volume, no
// access to the pod needed. The snapshot is consistent at the replication offset the
// member announces (+FULLRESYNC <replid> <offset>), which is the backup's position.
//
// A restore runs the other side: the job serves the RDB as a primary would, the
// member to be seeded replicates from it (it loads the RDB with its own loader, so
// every type and encoding comes back exactly), and is then detached.

// RDBPosition is where a snapshot stands in its source's replication history.
type RDBPosition struct {
	ReplID string
	Offset int64
}

func (p RDBPosition) String() string { return fmt.Sprintf("%s:%d", p.ReplID, p.Offset) }

// FetchRDB streams a full RDB snapshot of the server at addr into w.
func FetchRDB(ctx context.Context, addr, password string, w io.Writer) (RDBPosition, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return RDBPosition{}, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) }) //nolint:errcheck // unblocks reads
	defer stop()
	rd := bufio.NewReaderSize(conn, 1<<20)
	call := func(args ...string) (string, error) {
		_, err := conn.Write(respArray(args...))
		if err != nil {
			return "", err
		}
		// Empty lines are the source's keepalives while it prepares an answer.
		line := ""
		for line == "" {
			if line, err = readLine(rd); err != nil {
				return "", err
			}
		}
		if strings.HasPrefix(line, "-") {
			return "", fmt.Errorf("%s: %s", args[0], line[1:])
		}
		return line, nil
	}
	if password != "" {
		if _, err := call("AUTH", password); err != nil {
			return RDBPosition{}, fmt.Errorf("%s: %w", addr, err)
		}
	}
	// Only the snapshot, no command stream after it; the snapshot may come as a
	// stream with an end mark (diskless) or with its length.
	for _, args := range [][]string{{"REPLCONF", "rdb-only", "1"}, {"REPLCONF", "capa", "eof"}} {
		if _, err := call(args...); err != nil {
			return RDBPosition{}, fmt.Errorf("%s: %w", addr, err)
		}
	}
	line, err := call("PSYNC", "?", "-1")
	if err != nil {
		return RDBPosition{}, fmt.Errorf("%s: %w", addr, err)
	}
	pos, err := parseFullResync(line)
	if err != nil {
		return RDBPosition{}, fmt.Errorf("%s: %w", addr, err)
	}
	if err := readRDBPayload(rd, w); err != nil {
		return RDBPosition{}, fmt.Errorf("%s: receiving the snapshot: %w", addr, err)
	}
	return pos, nil
}

func parseFullResync(line string) (RDBPosition, error) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "+FULLRESYNC" {
		return RDBPosition{}, fmt.Errorf("expected +FULLRESYNC, got %q", line)
	}
	off, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return RDBPosition{}, fmt.Errorf("offset in %q: %w", line, err)
	}
	return RDBPosition{ReplID: f[1], Offset: off}, nil
}

// readRDBPayload copies the snapshot: "$<len>\r\n" and len bytes, or "$EOF:<mark>\r\n"
// and bytes up to the 40-byte mark. Empty lines before it are the source's keepalives
// while it prepares the snapshot.
func readRDBPayload(rd *bufio.Reader, w io.Writer) error {
	var header string
	for {
		line, err := readLine(rd)
		if err != nil {
			return err
		}
		if line != "" {
			header = line
			break
		}
	}
	if !strings.HasPrefix(header, "$") {
		return fmt.Errorf("expected the snapshot's header, got %q", header)
	}
	if mark, ok := strings.CutPrefix(header, "$EOF:"); ok {
		if len(mark) != 40 {
			return fmt.Errorf("end mark of %d bytes", len(mark))
		}
		return copyUntilMark(rd, w, []byte(mark))
	}
	n, err := strconv.ParseInt(header[1:], 10, 64)
	if err != nil {
		return fmt.Errorf("snapshot length %q: %w", header, err)
	}
	if _, err := io.CopyN(w, rd, n); err != nil {
		return err
	}
	return nil
}

// copyUntilMark copies everything before mark, which ends the stream.
func copyUntilMark(rd *bufio.Reader, w io.Writer, mark []byte) error {
	buf := make([]byte, 0, 1<<20)
	chunk := make([]byte, 1<<20)
	for {
		n, err := rd.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if len(buf) >= len(mark) && bytes.Equal(buf[len(buf)-len(mark):], mark) {
			_, werr := w.Write(buf[:len(buf)-len(mark)])
			return werr
		}
		// Keep the last len(mark)-1 bytes: the mark may straddle reads.
		if keep := len(mark) - 1; len(buf) > keep {
			if _, werr := w.Write(buf[:len(buf)-keep]); werr != nil {
				return werr
			}
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("the stream ended before its end mark")
			}
			return err
		}
	}
}

func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func respArray(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}
