package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/workflows"
)

// chromiumPath is where Debian's chromium package puts the browser (scripts/chromium.sh).
const chromiumPath = "/usr/bin/chromium"

// TestWidgetInABrowser drives headless Chromium on the widget's demo page of a running stack:
// the visitor opens the widget and writes; the agent accepts and answers through the
// ChatSession workflow; the answer shows up live; after a reload the transcript is back, once.
func TestWidgetInABrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI is set but %s is missing: scripts/test.sh runs scripts/chromium.sh install in CI", chromiumPath)
		}
		t.Skipf("%s is missing: run `bash scripts/chromium.sh install` (as root) to run the widget's browser test", chromiumPath)
	}
	s := env(t)
	site := s.chatSite(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, chromedp.DisableGPU) // headless by default; root needs no-sandbox
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	wait := chromedp.WithPollingTimeout(30 * time.Second)
	transcriptHas := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#sbw-messages').innerText.includes(%q)`, text), wait)
	}
	demo := s.base + "/widget/demo?key=" + site.widget.Key
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(demo),
		chromedp.WaitVisible(chromedp.ID("sbw-button")),
		chromedp.Click(chromedp.ID("sbw-button")),
		chromedp.WaitVisible(chromedp.ID("sbw-input")),
		chromedp.SendKeys(chromedp.ID("sbw-name"), "Browser visitor"),
		chromedp.SendKeys(chromedp.ID("sbw-input"), "Hello from the browser"),
		chromedp.WaitEnabled(chromedp.ID("sbw-send")), // a send answered after its echo came re-enables it
		chromedp.Click(chromedp.ID("sbw-send")),
		transcriptHas("Hello from the browser"),
	), "the visitor's message shows in the page")

	chatID, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`JSON.parse(localStorage.getItem(%q)).id`, "switchboard-chat:"+site.widget.Key)))
	require.NoError(t, err)
	require.NotEmpty(t, chatID, "the session is kept in localStorage")

	// The agent, through the workflow.
	s.agentDo(t, chatID, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	s.agentSays(t, chatID, site.agent, "Hi, an agent here")
	require.NoError(t, chromedp.Do(ctx,
		transcriptHas("Hi, an agent here"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#sbw-panel').getAttribute('data-state') === 'active'`, wait),
	), "the agent's answer shows in the page, live, and the chat is active")

	// Reload: the widget resumes the session and the transcript comes back, each message once.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("sbw-panel")),
		transcriptHas("Hello from the browser"),
		transcriptHas("Hi, an agent here"),
		chromedp.Sleep(time.Second),
	), "the transcript is back after a reload")
	count, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#sbw-messages .sbw-msg[data-seq]').length`))
	require.NoError(t, err)
	require.Equal(t, 2, count, "each message once")

	// The visitor writes again after the reload, on the same session.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("sbw-input"), "Still here"),
		chromedp.WaitEnabled(chromedp.ID("sbw-send")), // a send answered after its echo came re-enables it
		chromedp.Click(chromedp.ID("sbw-send")),
		transcriptHas("Still here"),
	))

	// A file, through the file input: uploaded to the chat and sent as a message carrying it.
	file := filepath.Join(t.TempDir(), "receipt.txt")
	require.NoError(t, os.WriteFile(file, []byte("receipt 42\n"), 0o600))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.WaitEnabled(chromedp.ID("sbw-send")), // the last send is answered
		chromedp.SetUploadFiles(chromedp.ID("sbw-file"), []string{file}),
		chromedp.WaitEnabled(chromedp.ID("sbw-send")), // a send answered after its echo came re-enables it
		chromedp.Click(chromedp.ID("sbw-send")),
		transcriptHas("receipt.txt"),
	), "the file shows in the transcript (widget error: %q)", widgetError(ctx))

	msgs, err := s.chatMessagesOf(t, chatID)
	require.NoError(t, err)
	require.Equal(t, []string{"Hello from the browser", "Hi, an agent here", "Still here", ""}, msgs)
	// The message shows on the stream before its send is answered, which then marks the upload.
	eventually(t, 10*time.Second, func() bool {
		var carried int
		err := s.db.NewRaw("SELECT count(*) FROM attachments WHERE chat_id = ? AND filename = 'receipt.txt' AND action_id = 4",
			chatID).Scan(context.Background(), &carried)
		return err == nil && carried == 1
	}, "the upload belongs to the chat and is carried by message 4")
}

// widgetError is what the widget shows in its error line, for failure messages.
func widgetError(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#sbw-error').textContent`))
	return msg
}

// chatMessagesOf reads a chat's transcript bodies from the database, in order.
func (s *stack) chatMessagesOf(t *testing.T, chatID string) ([]string, error) {
	t.Helper()
	var bodies []string
	err := s.db.NewRaw("SELECT body FROM chat_messages WHERE chat_id = ? ORDER BY seq", chatID).Scan(context.Background(), &bodies)
	return bodies, err
}
