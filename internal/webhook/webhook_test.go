package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The Standard Webhooks example (also Svix's documented vector), computed independently of this
// package: python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
// base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
// b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}", hashlib.sha256).digest()))'
func TestSignKnownVectors(t *testing.T) {
	cases := []struct {
		secret, id string
		ts         int64
		body, want string
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
			`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		// Key bytes 0..31, computed the same way with Python.
		{"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "dlv_1", 1767225600,
			`{"event":"ticket.updated"}`, "v1,O6hy+G0IG3V3uq8INbgjwq9Mqb/e2HyhHFJRSISXNAE="},
	}
	for _, c := range cases {
		got, err := Sign(c.secret, c.id, time.Unix(c.ts, 0), []byte(c.body))
		require.NoError(t, err)
		require.Equal(t, c.want, got)
		require.True(t, Verify(c.secret, c.id, time.Unix(c.ts, 0), []byte(c.body), "v1,bm9wZQ== "+c.want))
		require.False(t, Verify(c.secret, c.id, time.Unix(c.ts+1, 0), []byte(c.body), c.want), "the timestamp is signed")
		require.False(t, Verify(c.secret, c.id, time.Unix(c.ts, 0), []byte(c.body+" "), c.want), "the body is signed")
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecret()
	require.True(t, strings.HasPrefix(s, "whsec_"))
	key, err := secretKey(s)
	require.NoError(t, err)
	require.Len(t, key, 32)
	require.NotEqual(t, s, NewSecret())
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!"} {
		_, err := Sign(bad, "id", time.Unix(1, 0), nil)
		require.ErrorIs(t, err, ErrBadSecret, bad)
	}
}

func TestGuardRefusesEachInternalClass(t *testing.T) {
	refused := map[string]string{
		"127.0.0.1":        "loopback",
		"127.255.0.9":      "loopback",
		"::1":              "loopback",
		"::ffff:127.0.0.1": "loopback",
		"10.1.2.3":         "private",
		"172.16.0.1":       "private",
		"172.31.255.254":   "private",
		"192.168.1.1":      "private",
		"fd00::1":          "private",
		"fc12:3456::1":     "private",
		"169.254.169.254":  "link-local",
		"fe80::1":          "link-local",
		"0.0.0.0":          "unspecified",
		"::":               "unspecified",
		"224.0.0.1":        "multicast",
		"239.255.255.250":  "multicast",
		"ff02::1":          "multicast",
		"100.64.0.1":       "carrier-grade NAT",
		"255.255.255.255":  "broadcast",
		"0.1.2.3":          "this network",
	}
	g := Guard{}
	for addr, why := range refused {
		err := g.Check(netip.MustParseAddr(addr))
		var r *RefusedError
		require.ErrorAs(t, err, &r, addr)
		require.Contains(t, err.Error(), why, addr)
		require.Contains(t, err.Error(), "SWITCHBOARD_WEBHOOK_ALLOW_CIDRS", "the error says how to allow it")
	}
	for _, addr := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "11.0.0.1"} {
		require.NoError(t, g.Check(netip.MustParseAddr(addr)), addr)
	}
}

func TestGuardAllowList(t *testing.T) {
	g := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.20.0.0/16")}}
	require.NoError(t, g.Check(netip.MustParseAddr("127.0.0.1")))
	require.NoError(t, g.Check(netip.MustParseAddr("::ffff:127.0.0.1")))
	require.NoError(t, g.Check(netip.MustParseAddr("10.20.3.4")))
	require.Error(t, g.Check(netip.MustParseAddr("10.21.0.1")), "only what the list names")
	require.Error(t, g.Check(netip.MustParseAddr("::1")), "127.0.0.0/8 does not allow ::1")
}

// The guard runs on the address being dialled, after resolution: a name that resolves to
// loopback is refused like the literal address.
func TestSendChecksTheResolvedAddress(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(strings.Repeat("é", ExcerptLimit))) // 2 bytes a rune: cut mid-rune
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	secret := NewSecret()
	at := time.Unix(1767225600, 0)
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		res := Send(context.Background(), Options{}, Request{URL: u, ID: "d1", Secret: secret, Body: []byte(`{}`), At: at})
		var r *RefusedError
		require.ErrorAs(t, res.Err, &r, u)
		require.Equal(t, Final, res.Outcome())
		require.Nil(t, got, "nothing reached the receiver")
	}

	allow := Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	res := Send(context.Background(), allow, Request{URL: srv.URL, ID: "d1", Secret: secret, Body: []byte(`{"a":1}`), At: at})
	require.NoError(t, res.Err)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	require.Equal(t, Succeeded, res.Outcome())
	require.LessOrEqual(t, len(res.Excerpt), ExcerptLimit)
	require.Equal(t, strings.Repeat("é", ExcerptLimit/2), res.Excerpt)
	require.Equal(t, "d1", got.Header.Get("webhook-id"))
	require.Equal(t, "1767225600", got.Header.Get("webhook-timestamp"))
	require.True(t, Verify(secret, "d1", at, body, got.Header.Get("webhook-signature")))
	require.Equal(t, `{"a":1}`, string(body))
}

func TestSendTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	o := Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Timeout: 200 * time.Millisecond}
	res := Send(context.Background(), o, Request{URL: srv.URL, ID: "d1", Secret: NewSecret(), Body: []byte(`{}`), At: time.Now()})
	require.True(t, errors.Is(res.Err, context.DeadlineExceeded), "%v", res.Err)
	require.Equal(t, Failed, res.Outcome())
	require.Less(t, res.Latency, 5*time.Second)
}

func TestOutcomes(t *testing.T) {
	for code, want := range map[int]string{200: Succeeded, 204: Succeeded, 299: Succeeded, 301: Failed, 400: Final,
		401: Final, 404: Final, 410: Final, 408: Failed, 425: Failed, 429: Failed, 500: Failed, 503: Failed} {
		require.Equal(t, want, Response{StatusCode: code}.Outcome(), code)
	}
	require.Equal(t, Failed, Response{Err: errors.New("connection refused")}.Outcome())
	require.Equal(t, Final, Response{Err: ErrBadSecret}.Outcome())
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	require.Equal(t, 30*time.Second, retryAfter("30", now))
	require.Equal(t, 90*time.Second, retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, retryAfter("soon", now))
	require.Zero(t, retryAfter("", now))
}
