package integration

import (
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

// The attachment store on an S3 bucket (gocloud's s3blob speaking the S3 protocol over HTTP to
// gofakes3): an upload lands as one object named by its hash, a message carries it, the
// customer downloads it, and the same content uploaded again is no second object.
func TestAttachmentsOnAnS3Bucket(t *testing.T) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	require.NoError(t, backend.CreateBucket("attachments"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := newStack(t, stackOptions{worker: true, blobURL: "s3://attachments?region=us-east-1&use_path_style=true&endpoint=" + srv.URL})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "On S3", "clientIds": []string{p.customer}})

	data := unique("a receipt kept on S3")
	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "receipt.txt", data: data})[0]
	objects := func() []string {
		list, err := backend.ListBucket("attachments", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
		require.NoError(t, err)
		var keys []string
		for _, o := range list.Contents {
			keys = append(keys, o.Key)
		}
		return keys
	}
	require.Equal(t, []string{"sha256/" + a.SHA256}, objects(), "one object, named by its content")
	s.post(t, p.agentTok, tk.ID, "messages", map[string]any{"body": "your receipt", "attachmentIds": []string{a.ID}}).expect(201)
	require.Equal(t, data, s.download(t, p.customerTok, a.ID).expect(200).body)
	b := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "again.txt", data: data})[0]
	require.Equal(t, a.SHA256, b.SHA256)
	require.Len(t, objects(), 1, "the same content twice is one object")
	require.Equal(t, data, s.download(t, p.agentTok, b.ID).expect(200).body)
	s.download(t, p.otherTok, a.ID).expectError(404, "not_found")
}
