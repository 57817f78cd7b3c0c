package chatconfig

import (
	"strings"
	"testing"
	"time"
)

func TestParseAndFormatDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "10m": 10 * time.Minute, "2h": 2 * time.Hour,
		"1h30m": 90 * time.Minute, "1d": 24 * time.Hour, "90s": 90 * time.Second} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "10", "ten minutes", "-5s", "0s", "1.5s", "500ms", "d", "1.5d", "xd", "10 m"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
	for d, want := range map[time.Duration]string{60 * time.Second: "1m", 30 * time.Second: "30s", 90 * time.Second: "90s",
		2 * time.Hour: "2h", 90 * time.Minute: "90m", 24 * time.Hour: "24h"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q; want %q", d, got, want)
		}
	}
}

func TestBounds(t *testing.T) {
	cases := []struct {
		b    Bound
		in   string
		secs int
		bad  bool
	}{
		{AcceptWithin, "5s", 5, false}, {AcceptWithin, "4s", 0, true}, {AcceptWithin, "1h", 3600, false},
		{AcceptWithin, "61m", 0, true}, {CustomerInactivity, "59s", 0, true}, {CustomerInactivity, "24h", 86400, false},
		{CustomerInactivity, "1d", 86400, false}, {CustomerInactivity, "25h", 0, true}, {QueueWait, "10s", 10, false},
		{QueueWait, "9s", 0, true}, {QueueWait, "nope", 0, true},
	}
	for _, c := range cases {
		secs, problem := c.b.Parse(c.in)
		if (problem != "") != c.bad || secs != c.secs {
			t.Errorf("%s.Parse(%q) = %d, %q", c.b.Field, c.in, secs, problem)
		}
	}
	if AcceptWithin.Seconds() != 60 || CustomerInactivity.Seconds() != 600 || QueueWait.Seconds() != 300 {
		t.Error("defaults")
	}
	if CheckConcurrent(0) == "" || CheckConcurrent(101) == "" || CheckConcurrent(1) != "" || CheckConcurrent(100) != "" {
		t.Error("CheckConcurrent")
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com": "https://example.com", "https://Example.COM/": "https://example.com",
		"http://localhost:8080": "http://localhost:8080", "https://example.com:443": "https://example.com",
		"http://example.com:80": "http://example.com", "https://a.example.com:8443": "https://a.example.com:8443",
		"http://127.0.0.1:3000": "http://127.0.0.1:3000", "http://[::1]:3000": "http://[::1]:3000",
	} {
		got, problem := Origin(in)
		if problem != "" || got != want {
			t.Errorf("Origin(%q) = %q, %q; want %q", in, got, problem, want)
		}
	}
	for _, in := range []string{"", "example.com", "ftp://example.com", "https://*.example.com", "*", "https://example.com/path",
		"https://example.com?q=1", "https://example.com#x", "https://user@example.com", "https://", "https://example.com:0",
		"https://example.com:99999", "https://example.com:", "https://exa mple.com", "https://-bad.com", "javascript:alert(1)",
		"https://example.com//", "https://example.com/?"} {
		if got, problem := Origin(in); problem == "" {
			t.Errorf("Origin(%q) = %q, accepted", in, got)
		}
	}
}

func TestNewKey(t *testing.T) {
	a, b := NewKey(), NewKey()
	if a == b || !strings.HasPrefix(a, KeyPrefix) || len(a) != len(KeyPrefix)+32 || strings.ContainsAny(a, "+/=") {
		t.Errorf("keys %q %q", a, b)
	}
}
