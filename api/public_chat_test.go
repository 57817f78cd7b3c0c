package api

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// The public widget API's limits, checked where no database is needed: the handlers after them
// refuse the requests before reading anything.
func TestPublicChatRateLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PublicChatRate, cfg.PublicChatStartRate = 5, 2
	app := New(nil, nil, cfg, slog.New(slog.DiscardHandler), nil)
	post := func(body string) int {
		req := httptest.NewRequest("POST", "/public/chat/v1/sessions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == 429 && res.Header.Get("Retry-After") == "" {
			t.Error("a 429 carries Retry-After")
		}
		return res.StatusCode
	}
	for i, want := range []int{422, 422, 429} { // {} lacks widgetKey; the third start is over the limit
		if got := post("{}"); got != want {
			t.Fatalf("session start %d: %d, want %d", i+1, got, want)
		}
	}
	// Per address, every route counts: 3 so far, 2 more pass the address limit, the next is refused.
	get := func() int {
		res, err := app.Test(httptest.NewRequest("GET", "/public/chat/v1/sessions/x/messages", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	for i, want := range []int{401, 401, 429} {
		if got := get(); got != want {
			t.Fatalf("request %d: %d, want %d", i+4, got, want)
		}
	}
}

func TestPublicChatBodyLimitAndPreflight(t *testing.T) {
	app := New(nil, nil, DefaultConfig(), slog.New(slog.DiscardHandler), nil)
	big := `{"widgetKey":"k","message":"` + strings.Repeat("x", publicChatMaxBody) + `"}`
	req := httptest.NewRequest("POST", "/public/chat/v1/sessions", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 413 {
		t.Fatalf("a body over %d bytes: %d, want 413", publicChatMaxBody, res.StatusCode)
	}
	// A preflight from Switchboard's own origin (the demo page) needs no widget.
	req = httptest.NewRequest("OPTIONS", "http://sb.example/public/chat/v1/sessions", nil)
	req.Header.Set("Origin", "http://sb.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err = app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://sb.example" {
		t.Fatalf("preflight: %d, Access-Control-Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}
