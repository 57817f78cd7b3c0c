package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/internal/channel"
)

func TestSignatureIsHMACOfURLAndSortedParams(t *testing.T) {
	params := url.Values{"To": {"whatsapp:+15550100"}, "Body": {"hi"}, "From": {"whatsapp:+15550199"}}
	u := "https://desk.example/public/whatsapp/v1/twilio?x=1"
	mac := hmac.New(sha1.New, []byte("secret"))
	mac.Write([]byte(u + "Bodyhi" + "Fromwhatsapp:+15550199" + "Towhatsapp:+15550100"))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	require.Equal(t, want, Signature("secret", u, params))
	require.True(t, ValidSignature("secret", u, params, want))

	tampered := url.Values{"To": {"whatsapp:+15550100"}, "Body": {"hi!"}, "From": {"whatsapp:+15550199"}}
	require.False(t, ValidSignature("secret", u, tampered, want), "a changed parameter")
	require.False(t, ValidSignature("other", u, params, want), "another account's token")
	require.False(t, ValidSignature("secret", "https://desk.example/elsewhere", params, want), "another URL")
	require.False(t, ValidSignature("", u, params, Signature("", u, params)), "no token configured: nothing is valid")
	require.False(t, ValidSignature("secret", u, params, ""))
}

func TestSendPostsTheMessagesAPI(t *testing.T) {
	var got url.Values
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/2010-04-01/Accounts/AC1/Messages.json", r.URL.Path)
		user, pass, _ = r.BasicAuth()
		require.NoError(t, r.ParseForm())
		got = r.PostForm
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"sid":"SM123"}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "tok", From: "whatsapp:+15550100"}

	sid, err := c.Send(context.Background(), channel.Outbound{To: "+15550199", Body: "hello"})
	require.NoError(t, err)
	require.Equal(t, "SM123", sid)
	require.Equal(t, "AC1", user)
	require.Equal(t, "tok", pass)
	require.Equal(t, "whatsapp:+15550199", got.Get("To"))
	require.Equal(t, "whatsapp:+15550100", got.Get("From"))
	require.Equal(t, "hello", got.Get("Body"))

	_, err = c.Send(context.Background(), channel.Outbound{To: "+15550199", TemplateID: "HX9", TemplateVars: map[string]string{"1": "Ana"}})
	require.NoError(t, err)
	require.Equal(t, "HX9", got.Get("ContentSid"))
	require.JSONEq(t, `{"1":"Ana"}`, got.Get("ContentVariables"))
	require.Empty(t, got.Get("Body"))
}

func TestSendReportsTwilioErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"code":63016,"message":"outside the allowed window"}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "tok", From: "whatsapp:+1"}
	_, err := c.Send(context.Background(), channel.Outbound{To: "+2", Body: "x"})
	require.ErrorContains(t, err, "63016")
}
