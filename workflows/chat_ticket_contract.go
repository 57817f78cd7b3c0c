package workflows

import (
	"strconv"
	"time"
)

// ChatTicketArchive is the workflow that archives a chat ticket (a ticket of the offline flow)
// ChatTicketArchiveAfter its creation: one durable timer, then the ArchiveChatTicket activity
// sets chat_tickets.archived_at. Started by the offline flow when it opens the ticket, with ID
// ChatTicketArchiveID (a retried start is refused as already started).
const (
	ChatTicketArchiveWorkflowType = "ChatTicketArchive"
	ActivityArchiveChatTicket     = "ArchiveChatTicket"
	ChatTicketArchiveAfter        = 90 * 24 * time.Hour
)

// ChatTicketArchiveID is the archive workflow's ID: chat-ticket-archive/<ticket id>.
func ChatTicketArchiveID(ticketID int64) string {
	return "chat-ticket-archive/" + strconv.FormatInt(ticketID, 10)
}

// ChatTicketArchiveInput starts a ChatTicketArchive run: the ticket and when it was created
// (it is archived at CreatedAt + ChatTicketArchiveAfter).
type ChatTicketArchiveInput struct {
	TicketID  int64
	CreatedAt time.Time
}
