package dbtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// VersityGWVersion is the S3 server the backup tests run (built by make
// dataplane-deps from the Go module proxy): a real S3 API over a directory.
const VersityGWVersion = "v1.8.0"

// S3 credentials of every test server.
const (
	S3AccessKey = "stowage-test"
	S3SecretKey = "stowage-test-secret"
)

// S3Server is a versitygw process serving the buckets under Root on loopback.
type S3Server struct {
	Port int
	// Root holds one directory per bucket, one file per object.
	Root string
	process
}

// Endpoint is host:port of the S3 API.
func (s *S3Server) Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// StartS3 starts an S3 server with one bucket, credentials in its environment only.
func StartS3(t *testing.T, bucket string) *S3Server {
	t.Helper()
	if testing.Short() {
		t.Skip("data-plane: skipped with -short")
	}
	bin := filepath.Join(cacheDir(), "bin", "versitygw-"+VersityGWVersion)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("versitygw %s is not built (run `make dataplane-deps`): %v", VersityGWVersion, err)
	}
	s := &S3Server{Port: FreePort(t), Root: t.TempDir()}
	s.env = []string{"ROOT_ACCESS_KEY_ID=" + S3AccessKey, "ROOT_SECRET_ACCESS_KEY=" + S3SecretKey}
	// The posix backend keeps object metadata (ETags, which multipart uploads need)
	// in extended attributes: the test directory's filesystem must have them.
	if err := s.launch(bin, "--port", s.Endpoint(), "posix", s.Root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Endpoint(), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if !s.Running() || time.Now().After(deadline) {
			t.Fatalf("versitygw does not listen on %s", s.Endpoint())
		}
		time.Sleep(50 * time.Millisecond)
	}
	client, err := minio.New(s.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(S3AccessKey, S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	return s
}

func cacheDir() string {
	if c := os.Getenv("STOWAGE_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "stowage")
}
