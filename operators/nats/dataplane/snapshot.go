package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// A NATS backup is a snapshot of every stream of the applications' account, taken
// through the JetStream API ($JS.API.STREAM.SNAPSHOT): the stream leader writes its
// messages and its consumers' state as a compressed archive, in chunks the client
// acknowledges (flow control), with the stream's configuration and state beside it.
// A restore sends the archive back ($JS.API.STREAM.RESTORE), which recreates the
// stream with its consumers. The connection is an application user's: the JetStream
// API is per account.

// How long a snapshot or a restore waits for the server: for each chunk (a restore:
// its acknowledgement), and for the rebuilt stream after a restore's last chunk.
const (
	chunkTimeout  = 30 * time.Second
	finishTimeout = 10 * time.Minute
)

// A JetStream API request can be lost: the meta leader that should answer it steps
// down, as it may in a cluster that has just formed, and nothing answers at all. So
// each request waits at most apiTimeout, and one that can be repeated without harm
// (listing, deleting) is sent again, up to apiAttempts times in all.
// TestDataPlaneRestoreSurvivesMetaLeaderChanges drills this; a restore job once
// waited for a lost listing for ever.
const (
	apiTimeout  = 10 * time.Second
	apiAttempts = 6
)

// apiRequest sends a JetStream API request and returns its answer.
func apiRequest(ctx context.Context, nc *nats.Conn, subject string, data []byte, repeatable bool) (*nats.Msg, error) {
	attempts := 1
	if repeatable {
		attempts = apiAttempts
	}
	var err error
	for range attempts {
		rctx, cancel := context.WithTimeout(ctx, apiTimeout)
		var msg *nats.Msg
		msg, err = nc.RequestWithContext(rctx, subject, data)
		cancel()
		if err == nil {
			return msg, nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders)) {
			return nil, err
		}
		select { // no responders answers at once: give an election a moment
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil, fmt.Errorf("no answer to %s after %d attempts: %w", subject, attempts, err)
}

// StreamMeta is a stream's configuration and state at its snapshot.
type StreamMeta struct {
	Config server.StreamConfig `json:"config"`
	State  server.StreamState  `json:"state"`
}

// Streams names the account's streams.
func Streams(ctx context.Context, nc *nats.Conn) ([]string, error) {
	var names []string
	for offset := 0; ; {
		req, _ := json.Marshal(server.JSApiStreamNamesRequest{ApiPagedRequest: server.ApiPagedRequest{Offset: offset}})
		msg, err := apiRequest(ctx, nc, server.JSApiStreams, req, true)
		if err != nil {
			return nil, fmt.Errorf("listing streams: %w", err)
		}
		var resp server.JSApiStreamNamesResponse
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			return nil, fmt.Errorf("listing streams: %w", err)
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("listing streams: %s", resp.Error.Description)
		}
		names = append(names, resp.Streams...)
		offset += len(resp.Streams)
		if len(resp.Streams) == 0 || offset >= resp.Total {
			return names, nil
		}
	}
}

// SnapshotStream writes stream's archive (messages and consumers) into data and
// returns its configuration and state.
func SnapshotStream(ctx context.Context, nc *nats.Conn, stream string, data io.Writer) (StreamMeta, error) {
	inbox := nc.NewRespInbox()
	// Room for the server's whole window (8 MiB in 256 KiB chunks) and more.
	chunks := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(inbox, chunks)
	if err != nil {
		return StreamMeta{}, err
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	req, _ := json.Marshal(server.JSApiStreamSnapshotRequest{DeliverSubject: inbox, ChunkSize: 256 << 10})
	msg, err := apiRequest(ctx, nc, fmt.Sprintf(server.JSApiStreamSnapshotT, stream), req, false)
	if err != nil {
		return StreamMeta{}, fmt.Errorf("snapshot of %s: %w", stream, err)
	}
	var resp server.JSApiStreamSnapshotResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return StreamMeta{}, fmt.Errorf("snapshot of %s: %w", stream, err)
	}
	if resp.Error != nil {
		return StreamMeta{}, fmt.Errorf("snapshot of %s: %s", stream, resp.Error.Description)
	}
	if resp.Config == nil || resp.State == nil {
		return StreamMeta{}, fmt.Errorf("snapshot of %s: the server sent no configuration or state", stream)
	}
	for {
		var m *nats.Msg
		select {
		case m = <-chunks:
		case <-ctx.Done():
			return StreamMeta{}, fmt.Errorf("snapshot of %s: %w", stream, ctx.Err())
		case <-time.After(chunkTimeout):
			return StreamMeta{}, fmt.Errorf("snapshot of %s: no chunk for %s", stream, chunkTimeout)
		}
		if len(m.Data) == 0 { // the end, or an error in the status header
			if status := m.Header.Get("Status"); status != "" && !strings.Contains(status, "204") {
				return StreamMeta{}, fmt.Errorf("snapshot of %s: %s %s", stream, status, m.Header.Get("Description"))
			}
			return StreamMeta{Config: *resp.Config, State: *resp.State}, nil
		}
		// Acknowledge at once: the server stops sending when acknowledgements lag.
		if m.Reply != "" {
			if err := m.Respond(nil); err != nil {
				return StreamMeta{}, err
			}
		}
		if _, err := data.Write(m.Data); err != nil {
			return StreamMeta{}, fmt.Errorf("snapshot of %s: %w", stream, err)
		}
	}
}

// RestoreStream recreates a stream from its archive; the stream must not exist.
func RestoreStream(ctx context.Context, nc *nats.Conn, meta StreamMeta, data io.Reader) (server.StreamState, error) {
	name := meta.Config.Name
	req, _ := json.Marshal(server.JSApiStreamRestoreRequest{Config: meta.Config, State: meta.State})
	// Not repeated here: a lost request may have started a restore; the caller
	// removes what it left and starts again.
	msg, err := apiRequest(ctx, nc, fmt.Sprintf(server.JSApiStreamRestoreT, name), req, false)
	if err != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %w", name, err)
	}
	var resp server.JSApiStreamRestoreResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %w", name, err)
	}
	if resp.Error != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %s", name, resp.Error.Description)
	}
	chunk := make([]byte, min(int64(128<<10), nc.MaxPayload()))
	for {
		n, err := io.ReadFull(data, chunk)
		if n > 0 {
			// Each chunk is acknowledged at once; none for long means the server that
			// took the restore is gone (a meta leader change drops it).
			cctx, cancel := context.WithTimeout(ctx, chunkTimeout)
			reply, rerr := nc.RequestWithContext(cctx, resp.DeliverSubject, chunk[:n])
			cancel()
			if rerr != nil {
				return server.StreamState{}, fmt.Errorf("restoring %s: sending the archive: %w", name, rerr)
			}
			if len(reply.Data) > 0 {
				return server.StreamState{}, fmt.Errorf("restoring %s: %s", name, reply.Data)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return server.StreamState{}, fmt.Errorf("restoring %s: %w", name, archiveError{err})
		}
	}
	// The end: the server rebuilds the stream now, which may take a while.
	lctx, cancel := context.WithTimeout(ctx, finishTimeout)
	defer cancel()
	final, err := nc.RequestWithContext(lctx, resp.DeliverSubject, nil)
	if err != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %w", name, err)
	}
	var created server.JSApiStreamCreateResponse
	if err := json.Unmarshal(final.Data, &created); err != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %w", name, err)
	}
	if created.Error != nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: %s", name, created.Error.Description)
	}
	if created.StreamInfo == nil {
		return server.StreamState{}, fmt.Errorf("restoring %s: the server sent no stream", name)
	}
	return created.State, nil
}

// restoreAttempts bounds the tries of one stream's restore.
const restoreAttempts = 3

// archiveError is a failure to read the archive, which a new attempt reads again.
type archiveError struct{ err error }

func (e archiveError) Error() string { return "reading the archive: " + e.err.Error() }
func (e archiveError) Unwrap() error { return e.err }

// RestoreStreamRetrying restores a stream from its archive, which open opens afresh for
// each attempt. A restore the server drops (its meta leader changed, as it may in a
// cluster that has just formed) goes unanswered or finds no one taking the archive; it
// is taken again from the start, after removing what the dropped one left. An archive
// that cannot be read is not.
func RestoreStreamRetrying(ctx context.Context, nc *nats.Conn, meta StreamMeta, open func() (io.ReadCloser, error)) (server.StreamState, error) {
	var err error
	for attempt := 1; attempt <= restoreAttempts; attempt++ {
		if attempt > 1 {
			_ = DeleteStream(ctx, nc, meta.Config.Name)
			select {
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
				return server.StreamState{}, ctx.Err()
			}
		}
		data, oerr := open()
		if oerr != nil {
			return server.StreamState{}, oerr
		}
		var state server.StreamState
		state, err = RestoreStream(ctx, nc, meta, data)
		data.Close()
		if err == nil || ctx.Err() != nil || errors.As(err, new(archiveError)) {
			return state, err
		}
	}
	return server.StreamState{}, fmt.Errorf("%w (after %d attempts)", err, restoreAttempts)
}

// DeleteStream removes a stream and its messages (a forced restore replaces it). A
// stream that is not there is deleted already: a repeated request finds it so.
func DeleteStream(ctx context.Context, nc *nats.Conn, name string) error {
	msg, err := apiRequest(ctx, nc, fmt.Sprintf(server.JSApiStreamDeleteT, name), nil, true)
	if err != nil {
		return fmt.Errorf("deleting stream %s: %w", name, err)
	}
	var resp server.JSApiStreamDeleteResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("deleting stream %s: %w", name, err)
	}
	if resp.Error != nil && resp.Error.ErrCode != uint16(server.JSStreamNotFoundErr) {
		return fmt.Errorf("deleting stream %s: %s", name, resp.Error.Description)
	}
	return nil
}
