package redis

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/backup/controller"
)

// BackupEngine backs RedisClusters up with an RDB taken over the replication
// protocol (no access to the member's volume; the member forks and streams), and
// restores by serving the RDB to the primary as a primary would, so the server loads
// it with its own loader.
type BackupEngine struct{}

var _ backup.Engine = BackupEngine{}

// Endpoint options of a restore: where the job's RDB source listens, and the host
// the member reaches it at (the job pod's IP).
const (
	OptionRestoreListen = "restoreListen"
	OptionRestoreHost   = "restoreHost"
	rdbFile             = "dump.rdb"
)

func (BackupEngine) Name() string { return engineName }

func (BackupEngine) Dump(ctx context.Context, src backup.Endpoint, w *backup.Writer) (string, error) {
	f, err := w.Create(ctx, rdbFile)
	if err != nil {
		return "", err
	}
	pos, err := dataplane.FetchRDB(ctx, src.Addr, src.Password, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return pos.String(), nil
}

func (BackupEngine) Load(ctx context.Context, dst backup.Endpoint, r *backup.Reader, force bool) error {
	files := r.Files(rdbFile)
	if len(files) != 1 {
		return fmt.Errorf("%w: the backup has no %s", backup.ErrIncomplete, rdbFile)
	}
	m := dataplane.Connect(dst.Name, dst.Addr, dst.Password)
	defer m.Close()
	if n, err := m.KeyCount(ctx); err != nil {
		return err
	} else if n > 0 && !force {
		return fmt.Errorf("%s already holds %d keys; a restore goes into an empty cluster unless forced", dst.Name, n)
	}
	listen := dst.Options[OptionRestoreListen]
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	host := dst.Options[OptionRestoreHost]
	if host == "" {
		host, _, _ = net.SplitHostPort(listen)
	}
	pos, err := parsePosition(r.Manifest().Position)
	if err != nil {
		return err
	}
	src, err := dataplane.ServeRDB(listen, pos, files[0].RawSize, func() (io.ReadCloser, error) { return r.Open(ctx, files[0].Name) })
	if err != nil {
		return err
	}
	defer src.Close()
	if err := m.SeedFromRDB(ctx, host, src.Port()); err != nil {
		return err
	}
	return src.Sent(ctx)
}

// parsePosition reads "<replid>:<offset>".
func parsePosition(s string) (dataplane.RDBPosition, error) {
	i := strings.LastIndex(s, ":")
	if i < 1 {
		return dataplane.RDBPosition{}, fmt.Errorf("backup position %q is not <replid>:<offset>", s)
	}
	off, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil {
		return dataplane.RDBPosition{}, fmt.Errorf("backup position %q: %w", s, err)
	}
	return dataplane.RDBPosition{ReplID: s[:i], Offset: off}, nil
}

// BackupProfile tells the backup controllers how to run jobs for RedisClusters.
func BackupProfile(opts Options) controller.Profile {
	return controller.Profile{Engine: NewEngine(opts), PasswordKey: KeyPassword}
}
