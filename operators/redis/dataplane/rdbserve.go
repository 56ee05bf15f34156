package dataplane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// RDBSource serves one RDB snapshot to a replica, as its primary would: it answers the
// replica's handshake, sends +FULLRESYNC with the snapshot's position and the
// snapshot, then keeps the link alive with pings until it is closed.
type RDBSource struct {
	ln      net.Listener
	pos     RDBPosition
	size    int64
	payload func() (io.ReadCloser, error)

	mu   sync.Mutex
	sent chan error // the first transfer's result
	once sync.Once
	wg   sync.WaitGroup
	done chan struct{}
}

// ServeRDB listens on listen (host:port; port 0 picks one) and serves payload, of
// size bytes, to every replica that connects.
func ServeRDB(listen string, pos RDBPosition, size int64, payload func() (io.ReadCloser, error)) (*RDBSource, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listening for the member to seed: %w", err)
	}
	s := &RDBSource{ln: ln, pos: pos, size: size, payload: payload, sent: make(chan error, 1), done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Port is where the source listens.
func (s *RDBSource) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Sent waits until a replica has received the whole snapshot.
func (s *RDBSource) Sent(ctx context.Context) error {
	select {
	case err := <-s.sent:
		s.sent <- err
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends every link and stops listening.
func (s *RDBSource) Close() error {
	s.once.Do(func() { close(s.done) })
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *RDBSource) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			go func() { <-s.done; conn.Close() }()
			err := s.serve(conn)
			if err != nil && !errors.Is(err, net.ErrClosed) {
				select {
				case s.sent <- err:
				default:
				}
			}
		}()
	}
}

// serve answers one replica: the handshake, then the snapshot, then pings.
func (s *RDBSource) serve(conn net.Conn) error {
	rd := bufio.NewReader(conn)
	for {
		args, err := readCommand(rd)
		if err != nil {
			return err
		}
		if len(args) == 0 {
			continue
		}
		switch strings.ToUpper(args[0]) {
		case "PING":
			_, err = io.WriteString(conn, "+PONG\r\n")
		case "AUTH", "REPLCONF":
			_, err = io.WriteString(conn, "+OK\r\n")
		case "PSYNC", "SYNC":
			if err := s.transfer(conn); err != nil {
				return err
			}
			s.sent <- nil
			return s.keepAlive(conn, rd)
		default:
			_, err = fmt.Fprintf(conn, "-ERR %s is not served here\r\n", args[0])
		}
		if err != nil {
			return err
		}
	}
}

func (s *RDBSource) transfer(conn net.Conn) error {
	payload, err := s.payload()
	if err != nil {
		return err
	}
	defer payload.Close()
	if _, err := fmt.Fprintf(conn, "+FULLRESYNC %s %d\r\n$%d\r\n", s.pos.ReplID, s.pos.Offset, s.size); err != nil {
		return err
	}
	n, err := io.Copy(conn, payload)
	if err != nil {
		return fmt.Errorf("sending the snapshot: %w", err)
	}
	if n != s.size {
		return fmt.Errorf("sent %d bytes of a %d-byte snapshot", n, s.size)
	}
	return nil
}

// keepAlive pings the replica every second (it drops a silent primary after
// repl-timeout) and discards its acknowledgements.
func (s *RDBSource) keepAlive(conn net.Conn, rd *bufio.Reader) error {
	go io.Copy(io.Discard, rd) //nolint:errcheck // REPLCONF ACKs; ends with the connection
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return nil
		case <-tick.C:
			if _, err := conn.Write(respArray("PING")); err != nil {
				return err
			}
		}
	}
}

// readCommand reads one RESP array of bulk strings (what a replica sends).
func readCommand(rd *bufio.Reader) ([]string, error) {
	line, err := readLine(rd)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), nil // inline command
	}
	var n int
	if _, err := fmt.Sscanf(line, "*%d", &n); err != nil {
		return nil, fmt.Errorf("bad command header %q", line)
	}
	args := make([]string, 0, n)
	for range n {
		hdr, err := readLine(rd)
		if err != nil {
			return nil, err
		}
		var size int
		if _, err := fmt.Sscanf(hdr, "$%d", &size); err != nil {
			return nil, fmt.Errorf("bad argument header %q", hdr)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		args = append(args, string(buf[:size]))
	}
	return args, nil
}

// SeedFromRDB makes the member load a snapshot served at source (host:port of an
// RDBSource) and detaches it once loaded: it then holds exactly the snapshot, as a
// primary with no replicas yet.
func (m *Member) SeedFromRDB(ctx context.Context, sourceHost string, sourcePort int) error {
	if err := m.client.Do(ctx, "REPLICAOF", sourceHost, fmt.Sprint(sourcePort)).Err(); err != nil {
		return fmt.Errorf("%s: replicating from the restore: %w", m.Name, err)
	}
	for {
		info, err := m.client.Info(ctx, "replication", "persistence").Result()
		if err == nil {
			f := parseInfo(info)
			if f["master_link_status"] == "up" && f["master_sync_in_progress"] == "0" && f["loading"] == "0" {
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for the snapshot to load: %w", m.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := m.client.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		return fmt.Errorf("%s: detaching after the restore: %w", m.Name, err)
	}
	return nil
}
