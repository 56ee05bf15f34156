package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a target in an S3-compatible bucket, under a prefix.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	desc   string
}

var _ Target = (*S3)(nil)

// S3Options say where the bucket is and how to reach it.
type S3Options struct {
	// Endpoint is host[:port] of the S3 API.
	Endpoint string
	Bucket   string
	Prefix   string
	Region   string
	// Insecure talks plain HTTP.
	Insecure                     bool
	AccessKeyID, SecretAccessKey string
}

// NewS3 connects to the bucket (no request is made until the first use).
func NewS3(o S3Options) (*S3, error) {
	if o.Endpoint == "" || o.Bucket == "" {
		return nil, fmt.Errorf("an S3 target needs an endpoint and a bucket")
	}
	c, err := minio.New(o.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKeyID, o.SecretAccessKey, ""),
		Secure: !o.Insecure,
		Region: o.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %s: %w", o.Endpoint, err)
	}
	scheme := "https"
	if o.Insecure {
		scheme = "http"
	}
	prefix := strings.Trim(o.Prefix, "/")
	return &S3{client: c, bucket: o.Bucket, prefix: prefix,
		desc: fmt.Sprintf("s3:%s://%s/%s/%s", scheme, o.Endpoint, o.Bucket, prefix)}, nil
}

func (s *S3) key(name string) string {
	return strings.TrimPrefix(path.Join(s.prefix, path.Clean("/"+name)), "/")
}

// Put streams r as a multipart upload; S3 shows the object only once it completes.
func (s *S3) Put(ctx context.Context, name string, r io.Reader) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.key(name), r, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		// 16 MiB parts: memory per concurrent file stays bounded.
		PartSize: 16 << 20,
	})
	if err != nil {
		return fmt.Errorf("uploading %s to %s: %w", name, s, err)
	}
	return nil
}

func (s *S3) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	// GetObject is lazy; Stat first so a missing object is an error here.
	if _, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{}); err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", name, ErrNotExist)
		}
		return nil, fmt.Errorf("reading %s from %s: %w", name, s, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", name, s, err)
	}
	return obj, nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	full := s.key(prefix)
	if strings.HasSuffix(prefix, "/") {
		full += "/"
	}
	var out []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: full, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing %s in %s: %w", prefix, s, obj.Err)
		}
		name := obj.Key
		if s.prefix != "" {
			name = strings.TrimPrefix(name, s.prefix+"/")
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

func (s *S3) Delete(ctx context.Context, prefix string) error {
	names, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := s.client.RemoveObject(ctx, s.bucket, s.key(n), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return fmt.Errorf("deleting %s from %s: %w", n, s, err)
		}
	}
	return nil
}

func (s *S3) String() string { return s.desc }

func isNotFound(err error) bool {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode == 404 || resp.Code == "NoSuchKey"
	}
	return false
}
