package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"time"
)

// JobSpec is everything a backup or restore job needs, but credentials: the
// controller renders it into the Job's environment (STOWAGE_JOB) and credentials come
// from Secrets as separate variables.
type JobSpec struct {
	// Kind is backup or restore.
	Kind   string `json:"kind"`
	Engine string `json:"engine"`
	// Cluster is namespace/name.
	Cluster string `json:"cluster"`
	// Member is the member read (backup) or written (restore).
	Member     string            `json:"member"`
	MemberAddr string            `json:"memberAddr"`
	Options    map[string]string `json:"options,omitempty"`
	Parallel   int               `json:"parallel,omitempty"`
	Target     TargetSpec        `json:"target"`
	// Location is the backup's directory inside the target.
	Location    string      `json:"location"`
	Compression Compression `json:"compression,omitempty"`
	Force       bool        `json:"force,omitempty"`
}

// TargetSpec says where backups are stored: a directory (the mounted PVC) or S3.
type TargetSpec struct {
	Dir string      `json:"dir,omitempty"`
	S3  *S3Location `json:"s3,omitempty"`
}

// S3Location is an S3 target without its credentials.
type S3Location struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix,omitempty"`
	Region   string `json:"region,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
}

// Environment variables of a job.
const (
	EnvJob            = "STOWAGE_JOB"
	EnvPassword       = "STOWAGE_PASSWORD"
	EnvS3AccessKey    = "STOWAGE_S3_ACCESS_KEY_ID"
	EnvS3SecretKey    = "STOWAGE_S3_SECRET_ACCESS_KEY"
	TerminationPath   = "/dev/termination-log"
	progressFrequency = 2 * time.Second
)

// Open connects to the target, with S3 credentials from the environment.
func (t TargetSpec) Open(getenv func(string) string) (Target, error) {
	switch {
	case t.Dir != "" && t.S3 == nil:
		return Dir{Root: t.Dir}, nil
	case t.S3 != nil && t.Dir == "":
		return NewS3(S3Options{Endpoint: t.S3.Endpoint, Bucket: t.S3.Bucket, Prefix: t.S3.Prefix, Region: t.S3.Region,
			Insecure: t.S3.Insecure, AccessKeyID: getenv(EnvS3AccessKey), SecretAccessKey: getenv(EnvS3SecretKey)})
	default:
		return nil, fmt.Errorf("a target is a directory or an S3 bucket, exactly one")
	}
}

// Result is what a job reports when it ends (its termination message).
type Result struct {
	Location    string    `json:"location"`
	Source      string    `json:"source,omitempty"`
	Position    string    `json:"position,omitempty"`
	Bytes       int64     `json:"bytes"`
	RawBytes    int64     `json:"rawBytes"`
	StartedAt   time.Time `json:"startedAt"`
	CompletedAt time.Time `json:"completedAt"`
	Error       string    `json:"error,omitempty"`
}

// Progress is told how far a job is (raw bytes so far) every few seconds.
type Progress func(rawBytes int64)

// RunBackup takes a backup as spec says with engine, and reports progress.
func RunBackup(ctx context.Context, spec JobSpec, engine Engine, password string, target Target, progress Progress) (Result, error) {
	res := Result{Location: spec.Location, Source: spec.Member, StartedAt: time.Now().UTC()}
	w, err := NewWriter(target, spec.Location, Manifest{Engine: spec.Engine, Cluster: spec.Cluster, Source: spec.Member, Compression: spec.Compression})
	if err != nil {
		return res, err
	}
	stop := report(ctx, w.RawBytes, progress)
	position, err := engine.Dump(ctx, spec.endpoint(password), w)
	stop()
	if err != nil {
		return res, fmt.Errorf("backing up %s from %s: %w", spec.Cluster, spec.Member, err)
	}
	m, err := w.Commit(ctx, position)
	if err != nil {
		return res, err
	}
	res.Position, res.Bytes, res.RawBytes, res.CompletedAt = position, m.Bytes(), m.RawBytes(), m.CompletedAt
	return res, nil
}

// RunRestore verifies the backup whole — every file against its checksum — before
// the engine touches the cluster, then loads it.
func RunRestore(ctx context.Context, spec JobSpec, engine Engine, password string, target Target, progress Progress) (Result, error) {
	res := Result{Location: spec.Location, StartedAt: time.Now().UTC()}
	r, err := Open(ctx, target, spec.Location)
	if err != nil {
		return res, err
	}
	m := r.Manifest()
	res.Source, res.Position, res.Bytes, res.RawBytes = m.Source, m.Position, m.Bytes(), m.RawBytes()
	if m.Engine != spec.Engine {
		return res, fmt.Errorf("%s is a %s backup; the cluster is %s", spec.Location, m.Engine, spec.Engine)
	}
	if err := r.Verify(ctx); err != nil {
		return res, fmt.Errorf("nothing was restored: %w", err)
	}
	if err := engine.Load(ctx, spec.endpoint(password), r, spec.Force); err != nil {
		return res, fmt.Errorf("restoring into %s: %w", spec.Cluster, err)
	}
	res.CompletedAt = time.Now().UTC()
	return res, nil
}

func (spec JobSpec) endpoint(password string) Endpoint {
	return Endpoint{Name: spec.Member, Addr: spec.MemberAddr, Password: password, Options: spec.Options, Parallel: spec.Parallel}
}

// report calls progress with read() every few seconds until stopped.
func report(ctx context.Context, read func() int64, progress Progress) (stop func()) {
	if progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(progressFrequency)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				progress(read())
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Location is where a backup of a cluster is stored inside a target:
// <namespace>/<cluster>/<backup name>.
func Location(namespace, cluster, backup string) string { return path.Join(namespace, cluster, backup) }

// ParseJobSpec reads the job's spec from its environment.
func ParseJobSpec(getenv func(string) string) (JobSpec, error) {
	var spec JobSpec
	raw := getenv(EnvJob)
	if raw == "" {
		return spec, fmt.Errorf("%s is not set", EnvJob)
	}
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return spec, fmt.Errorf("%s: %w", EnvJob, err)
	}
	return spec, nil
}

// WriteResult writes the job's termination message, which the controller reads.
func WriteResult(path string, res Result) error {
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
