// Package blobstore keeps attachment content in a bucket behind gocloud.dev/blob: a local
// directory (file://) by default, any S3-compatible bucket by URL (s3://bucket?region=...&endpoint=...).
//
// Content is addressed by its SHA-256: the key of a file is "sha256/<hex>", so the same content
// stored twice is one object. Nothing is held in memory whole: Stage streams the content into a
// temporary key while hashing and counting it, and Promote then copies it to its content key
// (unless that already exists) and removes the temporary one.
package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets (AWS or any S3-compatible endpoint)
	"gocloud.dev/gcerrors"
)

// DefaultURL is the local default: the project's .data/blobs directory, created on first use.
// Metadata is not written beside the files: the database keeps each file's type and name.
const DefaultURL = "file://./.data/blobs?create_dir=true&no_tmp_dir=true&metadata=skip"

// ErrTooLarge is returned by Stage when the content is longer than its limit; nothing is kept.
var ErrTooLarge = errors.New("blobstore: content larger than the limit")

// ErrNotFound is returned by Open for content that is not in the store.
var ErrNotFound = errors.New("blobstore: no such content")

// Store is a content-addressed bucket.
type Store struct {
	bucket *blob.Bucket
}

// Open opens the bucket at a gocloud URL (file:// or s3://).
func Open(ctx context.Context, rawURL string) (*Store, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("blobstore: open %s: %w", redact(rawURL), err)
	}
	return &Store{bucket: b}, nil
}

// FileURL is the URL of a local directory bucket, created when missing.
func FileURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs),
		RawQuery: "create_dir=true&no_tmp_dir=true&metadata=skip"}).String()
}

// CheckURL tells whether rawURL names a bucket this package can open, without opening it.
func CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("blobstore: not a URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" || (u.Host != "" && u.Host != "." && u.Host != "localhost") {
			return errors.New("blobstore: a file URL names a directory: file:///abs/dir or file://./relative/dir")
		}
	case "s3":
		if u.Host == "" {
			return errors.New("blobstore: an s3 URL names its bucket: s3://bucket?region=...")
		}
	default:
		return fmt.Errorf("blobstore: unsupported scheme %q; use file:// or s3://", u.Scheme)
	}
	return nil
}

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(bad URL)"
	}
	u.User = nil
	return u.Redacted()
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

var hexSHA = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Key is the bucket key of the content with this SHA-256 (lower-case hex).
func Key(sha string) string { return "sha256/" + sha }

// Staged is content streamed into a temporary key: its hash and size are known. Promote or
// Discard it.
type Staged struct {
	SHA256 string
	Size   int64
	tmp    string
}

// Stage streams r into a temporary key, hashing it as it goes. More than max bytes (max > 0)
// stops the write, removes what was written and returns ErrTooLarge.
func (s *Store) Stage(ctx context.Context, r io.Reader, max int64, contentType string) (*Staged, error) {
	tmp := "tmp/" + uuid.NewString()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, tmp, &blob.WriterOptions{ContentType: contentType, DisableContentTypeDetection: true})
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err == nil && max > 0 && n > max {
		err = ErrTooLarge
	}
	if err != nil {
		cancel() // a canceled context makes Close abandon the write
		_ = w.Close()
		_ = s.bucket.Delete(context.WithoutCancel(ctx), tmp)
		return nil, err
	}
	if err := w.Close(); err != nil {
		_ = s.bucket.Delete(context.WithoutCancel(ctx), tmp)
		return nil, err
	}
	return &Staged{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, tmp: tmp}, nil
}

// Promote makes staged content available under its content key: copied there unless the same
// content is already stored. The temporary key is removed either way. Running it twice is safe.
func (s *Store) Promote(ctx context.Context, st *Staged) error {
	dst := Key(st.SHA256)
	ok, err := s.bucket.Exists(ctx, dst)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.bucket.Copy(ctx, dst, st.tmp, nil); err != nil {
			if gcerrors.Code(err) != gcerrors.NotFound { // promoted already, by an earlier attempt
				return err
			}
			if ok, _ := s.bucket.Exists(ctx, dst); !ok {
				return err
			}
		}
	}
	s.Discard(ctx, st)
	return nil
}

// Discard removes staged content that will not be kept.
func (s *Store) Discard(ctx context.Context, st *Staged) {
	// A leftover temporary key (a failed delete) holds no reference; it is only space.
	_ = s.bucket.Delete(context.WithoutCancel(ctx), st.tmp)
}

// Object is stored content opened for reading.
type Object struct {
	io.ReadCloser
	Size int64
}

// Open reads the content with this hash.
func (s *Store) Open(ctx context.Context, sha string) (*Object, error) {
	if !hexSHA.MatchString(sha) {
		return nil, ErrNotFound
	}
	r, err := s.bucket.NewReader(ctx, Key(sha), nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return &Object{ReadCloser: r, Size: r.Size()}, nil
}

// Exists tells whether content with this hash is stored.
func (s *Store) Exists(ctx context.Context, sha string) (bool, error) {
	if !hexSHA.MatchString(sha) {
		return false, nil
	}
	return s.bucket.Exists(ctx, Key(sha))
}

// Delete removes the content with this hash; content that is not there is no error.
func (s *Store) Delete(ctx context.Context, sha string) error {
	if !hexSHA.MatchString(sha) {
		return nil
	}
	err := s.bucket.Delete(ctx, Key(sha))
	if err != nil && gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

// Count is how many objects are stored under a key prefix ("sha256/" for contents, "tmp/" for
// writes in flight or abandoned). Meant for tests and operators.
func (s *Store) Count(ctx context.Context, prefix string) (int, error) {
	for attempt := 1; ; attempt++ {
		n := 0
		err := s.each(ctx, prefix, func(*blob.ListObject) error { n++; return nil })
		// An object deleted while the listing reads it (another upload's expiry) fails the
		// listing with NotFound; count again.
		if gcerrors.Code(err) != gcerrors.NotFound || attempt == 5 {
			return n, err
		}
	}
}

// each calls fn for every object under prefix (not the directories, nor attribute files).
func (s *Store) each(ctx context.Context, prefix string, fn func(*blob.ListObject) error) error {
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if obj.IsDir || strings.HasSuffix(obj.Key, ".attrs") {
			continue
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
}

// StaleAfter is how old a temporary key must be before RemoveStale takes it: no upload streams
// for that long (the API's read timeout ends a stalled one), so an older one was abandoned by a
// process that died mid-upload.
const StaleAfter = time.Hour

// RemoveStale deletes the temporary keys last written before cutoff and answers how many went.
func (s *Store) RemoveStale(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.each(ctx, "tmp/", func(obj *blob.ListObject) error {
		if !obj.ModTime.Before(cutoff) {
			return nil
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// SweepStale removes abandoned temporary keys (older than StaleAfter) now and then every
// interval until ctx ends. It is housekeeping of space only: a temporary key is never
// referenced, so a sweep that is late or skipped loses nothing.
func (s *Store) SweepStale(ctx context.Context, log *slog.Logger, interval time.Duration) {
	for {
		if n, err := s.RemoveStale(ctx, time.Now().Add(-StaleAfter)); err != nil && ctx.Err() == nil {
			log.Warn("blobstore: removing abandoned uploads failed", "err", err)
		} else if n > 0 {
			log.Info("blobstore: removed abandoned uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
