package backup

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Compression of a backup's files.
type Compression string

const (
	None Compression = "none"
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// codec is how one compression wraps writers and readers.
type codec struct {
	suffix string
	writer func(io.Writer) (io.WriteCloser, error)
	reader func(io.Reader) (io.ReadCloser, error)
}

func (c Compression) codec() (codec, error) {
	switch c {
	case None, "":
		return codec{
			writer: func(w io.Writer) (io.WriteCloser, error) { return nopWriteCloser{w}, nil },
			reader: func(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(r), nil },
		}, nil
	case Gzip:
		return codec{suffix: ".gz",
			writer: func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestSpeed) },
			reader: func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) },
		}, nil
	case Zstd:
		return codec{suffix: ".zst",
			writer: func(w io.Writer) (io.WriteCloser, error) {
				// One encoder goroutine per file: an engine dumps several files at once.
				return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
			},
			reader: func(r io.Reader) (io.ReadCloser, error) {
				d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
				if err != nil {
					return nil, err
				}
				return d.IOReadCloser(), nil
			},
		}, nil
	default:
		return codec{}, fmt.Errorf("unknown compression %q (none, gzip or zstd)", c)
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
