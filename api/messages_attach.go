package api

import (
	"context"
	"strings"

	"github.com/switchboardhq/switchboard/schema"
)

// messageAttachments checks the files a message is to carry: uploads to this ticket not yet
// carried by another message, and (for a customer) their own.
func (s *Server) messageAttachments(ctx context.Context, p *Principal, ticketID int64, ids []string) ([]schema.AttachmentRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	files, err := s.attachmentsForMessage(ctx, p, ticketID, ids)
	if err != nil {
		return nil, err
	}
	refs := make([]schema.AttachmentRef, 0, len(files))
	for _, f := range files {
		refs = append(refs, schema.AttachmentRef{ID: f.ID, Filename: f.Filename, ContentType: f.ContentType, Size: f.Size})
	}
	return refs, nil
}

// hasAudio says whether a voice message's files include a recording.
func hasAudio(files []schema.AttachmentRef) bool {
	for _, f := range files {
		if strings.HasPrefix(f.ContentType, "audio/") {
			return true
		}
	}
	return false
}
