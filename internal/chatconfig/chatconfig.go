// Package chatconfig holds the rules of live chat's configuration that need no database: the
// timeouts of a chat group (written and answered as the configuration writes durations: 30s,
// 10m, 2h), the per-agent limit, the origins a widget may be embedded on, and widget keys.
package chatconfig

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bound is a timeout of a chat group: its field, its default and the range it must be in.
type Bound struct {
	Field    string
	Default  time.Duration
	Min, Max time.Duration
}

// The timeouts of a chat group.
var (
	// AcceptWithin: an offered chat not accepted in this time goes to the next agent.
	AcceptWithin = Bound{Field: "timeouts.acceptWithin", Default: 60 * time.Second, Min: 5 * time.Second, Max: time.Hour}
	// CustomerInactivity: a chat whose customer says nothing for this long is closed.
	CustomerInactivity = Bound{Field: "timeouts.customerInactivity", Default: 10 * time.Minute, Min: time.Minute, Max: 24 * time.Hour}
	// QueueWait: the longest a chat waits for an agent before the offline flow takes it.
	QueueWait = Bound{Field: "timeouts.queueWait", Default: 5 * time.Minute, Min: 10 * time.Second, Max: 24 * time.Hour}
)

// IntakeClose: without //end, the customer's message window on an offline-flow ticket closes
// this long after their last message.
var IntakeClose = Bound{Field: "offline.intakeClose", Default: 10 * time.Minute, Min: time.Minute, Max: 24 * time.Hour}

// The offline flow's default texts (../shared/seeds/chat-desk-tickets.txt) and the longest a
// group's own may be.
const (
	OfflinePrompt = `Would you like to leave a message for the agent? Please respond with YES or NO. ` +
		`If you select Yes, after your last message, please send "//end" without the quotes to end the chat.`
	OfflineAutoresponder = "Thank you. We are outside our support hours right now: you can leave several " +
		"messages here and an agent will answer them in this ticket. Send //end when you are done."
	MaxOfflineText = 2000
)

// The per-agent limit of concurrent chats, when a group sets one.
const (
	MinConcurrent = 1
	MaxConcurrent = 100
)

// ParseDuration reads a duration as the configuration writes them: a Go duration (30s, 10m,
// 2h, 1h30m) or whole days (1d). It must be positive and a whole number of seconds.
func ParseDuration(v string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(v, "d"); ok && n != "" && !strings.ContainsAny(n, "hmsuµn") {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 36500 {
			return 0, fmt.Errorf("%q is not a duration", v)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q is not a duration", v)
		}
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	if d%time.Second != 0 {
		return 0, errors.New("must be a whole number of seconds")
	}
	return d, nil
}

// FormatDuration writes d in its largest whole unit: 2h, 10m, 90s (1h30m is 90m).
func FormatDuration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// Parse reads a value of the timeout in seconds, or says what is wrong with it.
func (b Bound) Parse(v string) (seconds int, problem string) {
	d, err := ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, err.Error() + "; write a duration such as 30s, 10m or 2h"
	}
	if d < b.Min || d > b.Max {
		return 0, "must be between " + FormatDuration(b.Min) + " and " + FormatDuration(b.Max)
	}
	return int(d / time.Second), ""
}

// Seconds is the default in seconds.
func (b Bound) Seconds() int { return int(b.Default / time.Second) }

// CheckConcurrent says what is wrong with a per-agent limit, or "".
func CheckConcurrent(n int) string {
	if n < MinConcurrent || n > MaxConcurrent {
		return fmt.Sprintf("must be between %d and %d, or null for no limit", MinConcurrent, MaxConcurrent)
	}
	return ""
}

// Origin reads an allowed origin of a widget: a bare origin, scheme http or https, a host and
// an optional port, nothing else (no path, query, fragment, user or wildcard). It answers the
// origin as browsers send it in the Origin header (lower case, without the scheme's default
// port, without a trailing slash), or what is wrong with it.
func Origin(v string) (string, string) {
	const want = "must be a bare origin such as https://example.com or http://localhost:8080"
	if strings.Contains(v, "*") {
		return "", "wildcards are not allowed; list each origin; " + want
	}
	u, err := url.Parse(strings.TrimSuffix(v, "/"))
	if err != nil || u.Opaque != "" {
		return "", want
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", "the scheme must be http or https; " + want
	case u.User != nil:
		return "", "must not carry a user or password; " + want
	case u.Path != "" || u.RawPath != "":
		return "", "must not have a path; " + want
	case u.RawQuery != "" || u.ForceQuery:
		return "", "must not have a query; " + want
	case u.Fragment != "" || strings.Contains(v, "#"):
		return "", "must not have a fragment; " + want
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || !validHost(host) {
		return "", "has no valid host; " + want
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", "has an empty port; " + want
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", "has an invalid port; " + want
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, ""
}

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// KeyPrefix begins every widget key.
const KeyPrefix = "cwk_"

// NewKey is a new public widget key: 192 random bits, URL-safe.
func NewKey() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}
