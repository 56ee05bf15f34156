package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Writer writes one backup into a directory of a target. Files may be written
// concurrently; the backup exists once Commit has written the manifest.
type Writer struct {
	target Target
	dir    string
	codec  codec

	mu       sync.Mutex
	manifest Manifest
	raw      atomic.Int64
}

// NewWriter starts a backup in dir with what m says of it (engine, cluster, source,
// compression — zstd when unset).
func NewWriter(target Target, dir string, m Manifest) (*Writer, error) {
	if m.Compression == "" {
		m.Compression = Zstd
	}
	c, err := m.Compression.codec()
	if err != nil {
		return nil, err
	}
	m.Format = formatVersion
	if m.StartedAt.IsZero() {
		m.StartedAt = time.Now().UTC()
	}
	m.Files = nil
	return &Writer{target: target, dir: strings.Trim(dir, "/"), codec: c, manifest: m}, nil
}

// SetMeta records a fact a restore needs in the manifest.
func (w *Writer) SetMeta(key, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.manifest.Meta == nil {
		w.manifest.Meta = map[string]string{}
	}
	w.manifest.Meta[key] = value
}

// RawBytes is how much the engine has written so far, before compression: the
// progress a status reports.
func (w *Writer) RawBytes() int64 { return w.raw.Load() }

// Create opens a file of the backup; its stored name gets the compression's suffix.
// Close stores it and records it; a file not closed is not part of the backup.
func (w *Writer) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	stored := name + w.codec.suffix
	w.mu.Lock()
	for _, f := range w.manifest.Files {
		if f.Name == stored {
			w.mu.Unlock()
			return nil, fmt.Errorf("file %s written twice", name)
		}
	}
	w.mu.Unlock()
	pr, pw := io.Pipe()
	fw := &fileWriter{w: w, name: stored, pipe: pw, sum: sha256.New(), done: make(chan error, 1)}
	fw.stored = &countingWriter{w: io.MultiWriter(pw, fw.sum)}
	enc, err := w.codec.writer(fw.stored)
	if err != nil {
		return nil, err
	}
	fw.enc = enc
	go func() {
		err := w.target.Put(ctx, path.Join(w.dir, stored), pr)
		pr.CloseWithError(err) // unblocks the writer if the upload failed
		fw.done <- err
	}()
	return fw, nil
}

// Commit writes the manifest, which makes the backup whole, and returns it.
func (w *Writer) Commit(ctx context.Context, position string) (Manifest, error) {
	w.mu.Lock()
	m := w.manifest
	m.Files = slices.Clone(m.Files)
	w.mu.Unlock()
	m.Position = position
	m.CompletedAt = time.Now().UTC()
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if err := w.target.Put(ctx, path.Join(w.dir, ManifestName), bytes.NewReader(append(data, '\n'))); err != nil {
		return Manifest{}, fmt.Errorf("writing the manifest: %w", err)
	}
	return m, nil
}

// fileWriter compresses what the engine writes, counts and hashes the compressed
// bytes and streams them to the target.
type fileWriter struct {
	w      *Writer
	name   string
	enc    io.WriteCloser
	stored *countingWriter
	pipe   *io.PipeWriter
	sum    hash.Hash
	raw    int64
	done   chan error
	closed bool
}

func (f *fileWriter) Write(p []byte) (int, error) {
	n, err := f.enc.Write(p)
	f.raw += int64(n)
	f.w.raw.Add(int64(n))
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", f.name, err)
	}
	return n, nil
}

func (f *fileWriter) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	err := f.enc.Close()
	f.pipe.CloseWithError(err)
	if uploadErr := <-f.done; err == nil {
		err = uploadErr
	}
	if err != nil {
		return fmt.Errorf("storing %s: %w", f.name, err)
	}
	f.w.mu.Lock()
	f.w.manifest.Files = append(f.w.manifest.Files, File{Name: f.name, Size: f.stored.n, SHA256: hex.EncodeToString(f.sum.Sum(nil)), RawSize: f.raw})
	f.w.mu.Unlock()
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
