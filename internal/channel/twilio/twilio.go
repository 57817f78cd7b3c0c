// Package twilio is the WhatsApp adapter over Twilio: the Messages API for outbound messages
// (a configurable base URL, so tests run against a fake Twilio on loopback) and the check of
// the X-Twilio-Signature header Twilio puts on its webhooks.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/channel"
)

// DefaultBaseURL is Twilio's API.
const DefaultBaseURL = "https://api.twilio.com"

// Client sends WhatsApp messages from one sender number (From, "whatsapp:+15550100").
type Client struct {
	BaseURL    string
	AccountSID string
	AuthToken  string
	From       string
	HTTP       *http.Client
}

var _ channel.Sender = (*Client)(nil)

// Send posts the message to the Messages API: Body for free text, ContentSid and
// ContentVariables for a template. The contact is addressed as whatsapp:<number>.
func (c *Client) Send(ctx context.Context, m channel.Outbound) (string, error) {
	form := url.Values{"From": {c.From}, "To": {"whatsapp:" + strings.TrimPrefix(m.To, "whatsapp:")}}
	if m.TemplateID != "" {
		vars, err := json.Marshal(m.TemplateVars)
		if err != nil {
			return "", err
		}
		form.Set("ContentSid", m.TemplateID)
		form.Set("ContentVariables", string(vars))
	} else {
		form.Set("Body", m.Body)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Messages.json", base, url.PathEscape(c.AccountSID))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 300 {
		return "", fmt.Errorf("twilio answered %d: %s", res.StatusCode, strings.TrimSpace(string(body)))
	}
	var sent struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body, &sent); err != nil || sent.SID == "" {
		return "", fmt.Errorf("twilio answered no message sid: %s", strings.TrimSpace(string(body)))
	}
	return sent.SID, nil
}

// Fetch downloads the media of an inbound message (MediaUrlN). Only URLs under the configured
// API base are fetched (Twilio's own media, with the account's credentials), never an address a
// request names elsewhere. The caller closes the body.
func (c *Client) Fetch(ctx context.Context, mediaURL string) (io.ReadCloser, string, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasPrefix(mediaURL, base+"/") {
		return nil, "", fmt.Errorf("%q is not a media URL of %s", mediaURL, base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	if res.StatusCode >= 300 {
		res.Body.Close()
		return nil, "", fmt.Errorf("fetching the media answered %d", res.StatusCode)
	}
	return res.Body, res.Header.Get("Content-Type"), nil
}

// Signature is Twilio's request signature: base64(HMAC-SHA1(auth token, the full URL Twilio
// called followed by every POST parameter's name and value, sorted by name)).
func Signature(authToken, fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range names {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature says whether sig is Twilio's signature of the request (constant time).
func ValidSignature(authToken, fullURL string, params url.Values, sig string) bool {
	if authToken == "" || sig == "" {
		return false
	}
	return hmac.Equal([]byte(Signature(authToken, fullURL, params)), []byte(sig))
}
