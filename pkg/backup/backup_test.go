package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stowage/stowage/internal/dbtest"
)

// payload is compressible but not trivial.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = "abcdefgh\n"[r.IntN(9)]
	}
	return out
}

func writeBackup(t *testing.T, target Target, dir string, c Compression, files map[string][]byte) Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := NewWriter(target, dir, Manifest{Engine: "test", Cluster: "ns/c", Compression: c})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for name, data := range files {
		wg.Add(1)
		go func() { // files are written concurrently, as engines do
			defer wg.Done()
			f, err := w.Create(ctx, name)
			if err != nil {
				errs <- err
				return
			}
			if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
				errs <- err
				return
			}
			errs <- f.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Commit(ctx, "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// RunTargetRoundTrip writes a backup of several files with each compression, reads
// it back through Verify and Open, and checks that a flipped byte, a missing file
// and a missing manifest are each caught before anything is loaded. Every Target
// runs it (the directory here, S3 against a real server).
func runTargetRoundTrip(t *testing.T, target Target, flip func(name string) error, remove func(name string) error) {
	ctx := context.Background()
	files := map[string][]byte{"schema.sql": payload(1, 1000), "data/t1.0": payload(2, 3<<20), "data/t2.0": payload(3, 100), "empty": nil}
	for _, c := range []Compression{None, Gzip, Zstd} {
		t.Run(string(c), func(t *testing.T) {
			dir := "ns/c/b-" + string(c)
			m := writeBackup(t, target, dir, c, files)
			if len(m.Files) != len(files) || m.Position != "pos-1" || m.RawBytes() != int64(3<<20+1100) {
				t.Fatalf("manifest %+v", m)
			}
			if c == Zstd && m.Bytes() >= m.RawBytes()*6/10 {
				t.Errorf("zstd stored %d of %d bytes", m.Bytes(), m.RawBytes())
			}
			r, err := Open(ctx, target, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			for name, want := range files {
				f := r.Files(name)
				if len(f) != 1 {
					t.Fatalf("%s: %v", name, f)
				}
				rc, err := r.Open(ctx, f[0].Name)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s: %d bytes, err %v", name, len(got), err)
				}
			}

			big := r.Files("data/t1.0")[0].Name
			if err := flip(dir + "/" + big); err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(ctx); !errors.Is(err, ErrCorrupt) {
				t.Errorf("a flipped byte passed Verify: %v", err)
			}
			rc, err := r.Open(ctx, big)
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("a flipped byte was read without error: %v", err)
			}

			if err := remove(dir + "/" + r.Files("data/t2.0")[0].Name); err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(ctx); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncomplete) {
				t.Errorf("a missing file passed Verify: %v", err)
			}
			if err := remove(dir + "/" + ManifestName); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(ctx, target, dir); !errors.Is(err, ErrIncomplete) {
				t.Errorf("a backup without a manifest opened: %v", err)
			}
		})
	}
}

func TestDirTargetRoundTrip(t *testing.T) {
	root := t.TempDir()
	target := Dir{Root: root}
	runTargetRoundTrip(t, target,
		func(name string) error {
			p := filepath.Join(root, name)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data[len(data)/2] ^= 0x01
			return os.WriteFile(p, data, 0o600)
		},
		func(name string) error { return os.Remove(filepath.Join(root, name)) })
	names, err := target.List(context.Background(), "ns/c/")
	if err != nil || len(names) != 9 {
		t.Errorf("listed %v, %v", names, err)
	}
	if err := target.Delete(context.Background(), "ns/c/b-zstd/"); err != nil {
		t.Fatal(err)
	}
	if names, _ := target.List(context.Background(), "ns/c/b-zstd/"); len(names) != 0 {
		t.Errorf("left after Delete: %v", names)
	}
	if _, err := target.Get(context.Background(), "../../etc/passwd"); err == nil {
		t.Error("a name escaped the root")
	}
}

// TestDataPlaneS3TargetRoundTrip runs the same round trip against a real S3 server
// (versitygw over a directory, on loopback), under a prefix; a flipped byte is made
// in the object's file behind the server's back.
func TestDataPlaneS3TargetRoundTrip(t *testing.T) {
	srv := dbtest.StartS3(t, "backups")
	target, err := NewS3(S3Options{Endpoint: srv.Endpoint(), Bucket: "backups", Prefix: "team-a/", Insecure: true,
		AccessKeyID: dbtest.S3AccessKey, SecretAccessKey: dbtest.S3SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(srv.Root, "backups", "team-a", name) }
	runTargetRoundTrip(t, target,
		func(name string) error {
			data, err := os.ReadFile(file(name))
			if err != nil {
				return err
			}
			data[len(data)/2] ^= 0x01
			return os.WriteFile(file(name), data, 0o600)
		},
		func(name string) error { return target.Delete(context.Background(), name) })
	ctx := context.Background()
	names, err := target.List(ctx, "ns/c/b-none/")
	if err != nil || len(names) != 3 { // what the round trip left: schema.sql, data/t1.0, empty
		t.Errorf("listed %v, %v", names, err)
	}
	if _, err := target.Get(ctx, "ns/c/none"); !errors.Is(err, ErrNotExist) {
		t.Errorf("a missing object: %v", err)
	}
	wrong, _ := NewS3(S3Options{Endpoint: srv.Endpoint(), Bucket: "backups", Insecure: true, AccessKeyID: "nobody", SecretAccessKey: "x"})
	if _, err := wrong.List(ctx, ""); err == nil {
		t.Error("wrong credentials listed the bucket")
	}
}
