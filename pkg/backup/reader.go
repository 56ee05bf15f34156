package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
)

// Reader reads one backup. Verify proves every file intact before an engine loads
// anything; Open checks each file again while it is read.
type Reader struct {
	target   Target
	dir      string
	manifest Manifest
	codec    codec
}

// Open reads the backup's manifest. A backup without one never finished.
func Open(ctx context.Context, target Target, dir string) (*Reader, error) {
	dir = strings.Trim(dir, "/")
	rc, err := target.Get(ctx, path.Join(dir, ManifestName))
	if errors.Is(err, ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no manifest in %s (the backup never finished)", ErrIncomplete, dir, target)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", dir, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", dir, err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	c, _ := m.Compression.codec()
	return &Reader{target: target, dir: dir, manifest: m, codec: c}, nil
}

// Manifest is what the backup says of itself.
func (r *Reader) Manifest() Manifest { return r.manifest }

// Verify reads every file the manifest lists and compares its size and SHA-256. It
// names the first file that is missing (ErrIncomplete) or differs (ErrCorrupt).
func (r *Reader) Verify(ctx context.Context) error {
	for _, f := range r.manifest.Files {
		rc, err := r.target.Get(ctx, path.Join(r.dir, f.Name))
		if errors.Is(err, ErrNotExist) {
			return fmt.Errorf("%w: %s is missing", ErrIncomplete, f.Name)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.Name, err)
		}
		sum := sha256.New()
		n, err := io.Copy(sum, contextReader{ctx, rc})
		rc.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.Name, err)
		}
		if err := f.check(n, sum); err != nil {
			return err
		}
	}
	return nil
}

// Open reads a file of the backup, decompressed. Reading it to the end fails with
// ErrCorrupt if it is not what the manifest says.
func (r *Reader) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	f, ok := r.manifest.File(name)
	if !ok {
		return nil, fmt.Errorf("%w: the manifest lists no file %s", ErrIncomplete, name)
	}
	rc, err := r.target.Get(ctx, path.Join(r.dir, f.Name))
	if errors.Is(err, ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrIncomplete, f.Name)
	}
	if err != nil {
		return nil, err
	}
	checked := &checkingReader{r: contextReader{ctx, rc}, sum: sha256.New(), file: f}
	dec, err := r.codec.reader(checked)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f.Name, err)
	}
	return &decodedFile{ReadCloser: dec, raw: rc, checked: checked}, nil
}

// Logical is the name a file was created with (its stored name without the
// compression's suffix).
func (r *Reader) Logical(f File) string { return strings.TrimSuffix(f.Name, r.codec.suffix) }

// Files lists the backup's stored files whose names start with prefix.
func (r *Reader) Files(prefix string) []File {
	var out []File
	for _, f := range r.manifest.Files {
		if strings.HasPrefix(f.Name, prefix) {
			out = append(out, f)
		}
	}
	return out
}

func (f File) check(n int64, sum hash.Hash) error {
	if n != f.Size {
		return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorrupt, f.Name, n, f.Size)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("%w: %s has SHA-256 %s, the manifest says %s", ErrCorrupt, f.Name, got, f.SHA256)
	}
	return nil
}

// checkingReader hashes what passes through and checks it at the end.
type checkingReader struct {
	r    io.Reader
	sum  hash.Hash
	n    int64
	file File
}

func (c *checkingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.sum.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF {
		if cerr := c.file.check(c.n, c.sum); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

type decodedFile struct {
	io.ReadCloser
	raw     io.Closer
	checked *checkingReader
}

// Read passes a checksum mismatch through even when the decompressor would have
// ended cleanly before the stored file's end.
func (d *decodedFile) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err == io.EOF {
		// Drain what the decompressor did not need, so the whole stored file is checked.
		if _, derr := io.Copy(io.Discard, d.checked); derr != nil {
			return n, derr
		}
	}
	if err != nil && err != io.EOF && !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("%w: %s: %v", ErrCorrupt, d.checked.file.Name, err)
	}
	return n, err
}

func (d *decodedFile) Close() error {
	d.ReadCloser.Close()
	return d.raw.Close()
}
