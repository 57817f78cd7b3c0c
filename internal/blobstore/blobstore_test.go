package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestContentAddressedAndStreamed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, FileURL(t.TempDir()+"/blobs"))
	require.NoError(t, err)
	defer s.Close()

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

func TestTooLargeLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, FileURL(t.TempDir()))
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Stage(ctx, bytes.NewReader(make([]byte, 1001)), 1000, "")
	require.ErrorIs(t, err, ErrTooLarge)
	st, err := s.Stage(ctx, bytes.NewReader(make([]byte, 1000)), 1000, "")
	require.NoError(t, err, "exactly the limit is allowed")
	s.Discard(ctx, st)
	n, err := s.Count(ctx, "")
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestFailingReaderLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, FileURL(t.TempDir()))
	require.NoError(t, err)
	defer s.Close()
	boom := errors.New("connection reset")
	_, err = s.Stage(ctx, io.MultiReader(bytes.NewReader(make([]byte, 5000)), errReader{boom}), 0, "")
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
