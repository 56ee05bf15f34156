package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stowage/stowage/operators/nats/dataplane"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/backup/controller"
)

// BackupEngine backs NATSClusters up as snapshots of every stream of the
// applications' account (messages and consumers), through the JetStream API, and
// restores them with the JetStream API. The job connects as the applications' user.
type BackupEngine struct{}

var _ backup.Engine = BackupEngine{}

func (BackupEngine) Name() string { return engineName }

func streamFiles(name string) (data, meta string) {
	return "streams/" + name + ".tar.s2", "streams/" + name + ".json"
}

func (BackupEngine) Dump(ctx context.Context, src backup.Endpoint, w *backup.Writer) (string, error) {
	nc, err := connectApp(src)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	names, err := dataplane.Streams(ctx, nc)
	if err != nil {
		return "", err
	}
	var position []string
	for _, name := range names {
		dataName, metaName := streamFiles(name)
		data, err := w.Create(ctx, dataName)
		if err != nil {
			return "", err
		}
		meta, err := dataplane.SnapshotStream(ctx, nc, name, data)
		if cerr := data.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		mf, err := w.Create(ctx, metaName)
		if err != nil {
			return "", err
		}
		if err := json.NewEncoder(mf).Encode(meta); err != nil {
			mf.Close()
			return "", err
		}
		if err := mf.Close(); err != nil {
			return "", err
		}
		position = append(position, fmt.Sprintf("%s@%d", name, meta.State.LastSeq))
	}
	// The position is each stream's last sequence: streams are snapshotted one after
	// the other, each consistent in itself.
	return strings.Join(position, ","), nil
}

func (BackupEngine) Load(ctx context.Context, dst backup.Endpoint, r *backup.Reader, force bool) error {
	nc, err := connectApp(dst)
	if err != nil {
		return err
	}
	defer nc.Close()
	existing, err := dataplane.Streams(ctx, nc)
	if err != nil {
		return err
	}
	if len(existing) > 0 && !force {
		return fmt.Errorf("the cluster already holds the streams %v; a restore goes into an empty cluster unless forced", existing)
	}
	for _, f := range r.Files("streams/") {
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.Logical(f), "streams/"), ".json")
		if !ok {
			continue
		}
		if err := restoreStream(ctx, nc, r, name, slices.Contains(existing, name)); err != nil {
			return err
		}
	}
	return nil
}

func restoreStream(ctx context.Context, nc *nats.Conn, r *backup.Reader, name string, replace bool) error {
	dataName, metaName := streamFiles(name)
	metaFiles, dataFiles := r.Files(metaName), r.Files(dataName)
	if len(metaFiles) != 1 || len(dataFiles) != 1 {
		return fmt.Errorf("%w: stream %s lacks its archive or its configuration", backup.ErrIncomplete, name)
	}
	mf, err := r.Open(ctx, metaFiles[0].Name)
	if err != nil {
		return err
	}
	var meta dataplane.StreamMeta
	err = json.NewDecoder(mf).Decode(&meta)
	if err == nil {
		_, err = io.Copy(io.Discard, mf) // reads to the end, where the checksum is checked
	}
	mf.Close()
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	if replace {
		if err := dataplane.DeleteStream(ctx, nc, name); err != nil {
			return err
		}
	}
	_, err = dataplane.RestoreStreamRetrying(ctx, nc, meta, func() (io.ReadCloser, error) { return r.Open(ctx, dataFiles[0].Name) })
	return err
}

func connectApp(e backup.Endpoint) (*nats.Conn, error) {
	nc, err := nats.Connect("nats://"+e.Addr, nats.UserInfo(ClientUser, e.Password), nats.Name("stowage-backup"),
		nats.Timeout(10*time.Second), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", e.Addr, err)
	}
	return nc, nil
}

// BackupProfile tells the backup controllers how to run jobs for NATSClusters: as
// the applications' user, whose account holds the streams.
func BackupProfile(opts Options) controller.Profile {
	return controller.Profile{Engine: NewEngine(opts), PasswordKey: KeyPassword}
}
