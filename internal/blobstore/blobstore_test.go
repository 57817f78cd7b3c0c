package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

// stores are the bucket URLs each test runs against: a directory, and an S3 bucket served over
// real HTTP by gofakes3 (the S3 protocol as gocloud's s3blob speaks it to AWS or MinIO).
func stores(t *testing.T) map[string]string {
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	require.NoError(t, backend.CreateBucket("switchboard"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return map[string]string{
		"file": FileURL(t.TempDir() + "/blobs"),
		"s3":   "s3://switchboard?region=us-east-1&use_path_style=true&endpoint=" + srv.URL,
	}
}

// eachStore runs f against each store.
func eachStore(t *testing.T, f func(t *testing.T, s *Store)) {
	for name, u := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Open(context.Background(), u)
			require.NoError(t, err)
			defer s.Close()
			f(t, s)
		})
	}
}

func TestContentAddressedAndStreamed(t *testing.T) { eachStore(t, contentAddressedAndStreamed) }

func contentAddressedAndStreamed(t *testing.T, s *Store) {
	ctx := context.Background()

	data := bytes.Repeat([]byte("voice note "), 10_000)
	sum := sha256.Sum256(data)
	for range 2 {
		st, err := s.Stage(ctx, bytes.NewReader(data), int64(len(data)), "audio/wav")
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(sum[:]), st.SHA256)
		require.Equal(t, int64(len(data)), st.Size)
		require.NoError(t, s.Promote(ctx, st))
	}
	n, err := s.Count(ctx, "sha256/")
	require.NoError(t, err)
	require.Equal(t, 1, n, "the same content twice is one object")
	n, err = s.Count(ctx, "tmp/")
	require.NoError(t, err)
	require.Zero(t, n, "no temporary key is left")

	obj, err := s.Open(ctx, hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.NoError(t, obj.Close())
	require.Equal(t, data, got)
	require.Equal(t, int64(len(data)), obj.Size)

	require.NoError(t, s.Delete(ctx, hex.EncodeToString(sum[:])))
	require.NoError(t, s.Delete(ctx, hex.EncodeToString(sum[:])), "deleting what is gone is no error")
	_, err = s.Open(ctx, hex.EncodeToString(sum[:]))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Open(ctx, "../../etc/passwd")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestTooLargeLeavesNothing(t *testing.T) { eachStore(t, tooLargeLeavesNothing) }

func tooLargeLeavesNothing(t *testing.T, s *Store) {
	ctx := context.Background()
	_, err := s.Stage(ctx, bytes.NewReader(make([]byte, 1001)), 1000, "")
	require.ErrorIs(t, err, ErrTooLarge)
	st, err := s.Stage(ctx, bytes.NewReader(make([]byte, 1000)), 1000, "")
	require.NoError(t, err, "exactly the limit is allowed")
	s.Discard(ctx, st)
	n, err := s.Count(ctx, "")
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestFailingReaderLeavesNothing(t *testing.T) { eachStore(t, failingReaderLeavesNothing) }

func failingReaderLeavesNothing(t *testing.T, s *Store) {
	ctx := context.Background()
	boom := errors.New("connection reset")
	_, err := s.Stage(ctx, io.MultiReader(bytes.NewReader(make([]byte, 5000)), errReader{boom}), 0, "")
	require.ErrorIs(t, err, boom)
	n, err := s.Count(ctx, "")
	require.NoError(t, err)
	require.Zero(t, n)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestCheckURL(t *testing.T) {
	require.NoError(t, CheckURL(DefaultURL))
	require.NoError(t, CheckURL("file:///var/lib/switchboard/blobs"))
	require.NoError(t, CheckURL("s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true"))
	require.Error(t, CheckURL("gs://bucket"))
	require.Error(t, CheckURL("s3://"))
	require.Error(t, CheckURL("file://"))
}

// A temporary key left by a process that died mid-upload is removed once it is older than
// the cutoff; one still being written (newer) and the contents stay.
func TestRemoveStaleTakesOnlyAbandonedTemporaries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/blobs"
	s, err := Open(ctx, FileURL(dir))
	require.NoError(t, err)
	defer s.Close()
	kept, err := s.Stage(ctx, bytes.NewReader([]byte("promoted")), 100, "text/plain")
	require.NoError(t, err)
	require.NoError(t, s.Promote(ctx, kept))
	abandoned, err := s.Stage(ctx, bytes.NewReader([]byte("abandoned")), 100, "text/plain")
	require.NoError(t, err)
	inFlight, err := s.Stage(ctx, bytes.NewReader([]byte("in flight")), 100, "text/plain")
	require.NoError(t, err)
	old := time.Now().Add(-2 * StaleAfter)
	require.NoError(t, os.Chtimes(filepath.Join(dir, abandoned.tmp), old, old))

	n, err := s.RemoveStale(ctx, time.Now().Add(-StaleAfter))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	left, err := s.Count(ctx, "tmp/")
	require.NoError(t, err)
	require.Equal(t, 1, left, "the upload in flight keeps its key")
	require.NoError(t, s.Promote(ctx, inFlight), "and can still be promoted")
	contents, err := s.Count(ctx, "sha256/")
	require.NoError(t, err)
	require.Equal(t, 2, contents)
}
