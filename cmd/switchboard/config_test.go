package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/switchboard?sslmode=disable", c.DatabaseURL)
	require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, 7*24*time.Hour, c.AutoCloseAfter)
	require.Equal(t, 1<<20, c.BodyLimit)
	require.Equal(t, []string{"Low", "Medium", "High", "Urgent"}, c.Urgencies)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, 4*time.Hour, c.CallNoEndAfter)
	require.Equal(t, 1200, c.RateLimit)
	require.Equal(t, 60, c.AuthFailureLimit)
	require.Equal(t, "file://./.data/blobs?create_dir=true&no_tmp_dir=true&metadata=skip", c.BlobURL)
	require.Equal(t, 25<<20, c.AttachmentMaxBytes)
	require.True(t, c.MessengerRequireOwner)
	require.Empty(t, c.VideoURLTemplate, "video sessions are off until a provider is configured")
}

func TestMessengerSettings(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"SWITCHBOARD_MESSENGER_REQUIRE_OWNER": "false",
		"SWITCHBOARD_VIDEO_URL_TEMPLATE": "https://meet.example/sb-{room}"}))
	require.NoError(t, err)
	require.False(t, c.MessengerRequireOwner)
	require.Equal(t, "https://meet.example/sb-{room}", c.VideoURLTemplate)
	_, err = LoadConfig(env(map[string]string{"SWITCHBOARD_VIDEO_URL_TEMPLATE": "https://meet.example/fixed"}))
	require.ErrorContains(t, err, "containing {room}", "a template without a room would send everyone to one call")
}

func TestAttachmentSettings(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"SWITCHBOARD_BLOB_URL":             "s3://attachments?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true",
		"SWITCHBOARD_ATTACHMENT_MAX_BYTES": "100MiB",
	}))
	require.NoError(t, err)
	require.Equal(t, "s3://attachments?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true", c.BlobURL)
	require.Equal(t, 100<<20, c.AttachmentMaxBytes)
	_, err = LoadConfig(env(map[string]string{"SWITCHBOARD_ATTACHMENT_MAX_BYTES": "2GiB", "SWITCHBOARD_BLOB_URL": "gs://b"}))
	require.ErrorContains(t, err, "SWITCHBOARD_ATTACHMENT_MAX_BYTES=")
	require.ErrorContains(t, err, "SWITCHBOARD_BLOB_URL=")
}

func TestValues(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"SWITCHBOARD_AUTO_CLOSE_AFTER": "90m", "SWITCHBOARD_BODY_LIMIT": "512KiB",
		"SWITCHBOARD_LOG_LEVEL": "debug", "SWITCHBOARD_URGENCIES": "P1, P2",
		"SWITCHBOARD_ADMIN_TOKEN": "sb_0123456789abcdefghijkl",
	}))
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, c.AutoCloseAfter)
	require.Equal(t, 512<<10, c.BodyLimit)
	require.Equal(t, slog.LevelDebug, c.LogLevel)
	require.Equal(t, []string{"P1", "P2"}, c.Urgencies)
}

// Every bad value is reported at once, each naming the variable and what it accepts.
func TestEveryBadValueIsNamed(t *testing.T) {
	bad := map[string]string{
		"SWITCHBOARD_DATABASE_URL":            "mysql://x/y",
		"TEMPORAL_ADDRESS":                    "nohostport",
		"SWITCHBOARD_TEMPORAL_UI_URL":         "localhost:8233",
		"SWITCHBOARD_HTTP_ADDR":               "8080",
		"SWITCHBOARD_ADMIN_TOKEN":             "short",
		"SWITCHBOARD_AUTO_CLOSE_AFTER":        "-5m",
		"SWITCHBOARD_SHUTDOWN_TIMEOUT":        "soon",
		"SWITCHBOARD_BODY_LIMIT":              "1GiB",
		"SWITCHBOARD_URGENCIES":               "Low,,High",
		"SWITCHBOARD_LOG_LEVEL":               "loud",
		"SWITCHBOARD_LOG_FORMAT":              "xml",
		"SWITCHBOARD_WORKFLOW_POLLERS":        "1",
		"SWITCHBOARD_MAX_CONCURRENT":          "lots",
		"SWITCHBOARD_CALL_NO_END_AFTER":       "forever",
		"SWITCHBOARD_RATE_LIMIT":              "-1",
		"SWITCHBOARD_AUTH_FAILURE_LIMIT":      "many",
		"SWITCHBOARD_MESSENGER_REQUIRE_OWNER": "yes",
		"SWITCHBOARD_VIDEO_URL_TEMPLATE":      "javascript:{room}",
	}
	_, err := LoadConfig(env(bad))
	require.Error(t, err)
	msg := err.Error()
	for name := range bad {
		require.Contains(t, msg, name+"=", "the error names %s", name)
	}
	require.Equal(t, len(bad), len(strings.Split(msg, "\n")), "one line per bad value")
	require.NotContains(t, msg, "short", "the admin token is never echoed")
	require.Contains(t, msg, "must be a positive duration such as 30s, 90m, 168h or 7d")
}

func TestWhatsAppSettingsAreAllOrNone(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	c, err := LoadConfig(get)
	require.NoError(t, err)
	require.False(t, c.WhatsAppOn(), "off by default")

	env["SWITCHBOARD_TWILIO_ACCOUNT_SID"] = "AC1"
	_, err = LoadConfig(get)
	require.ErrorContains(t, err, "SWITCHBOARD_TWILIO_AUTH_TOKEN")
	require.ErrorContains(t, err, "set all four or none")

	env["SWITCHBOARD_TWILIO_AUTH_TOKEN"], env["SWITCHBOARD_TWILIO_FROM"], env["SWITCHBOARD_WHATSAPP_GROUP"] = "tok", "+1555", "g-1"
	_, err = LoadConfig(get)
	require.ErrorContains(t, err, "whatsapp:+<number>")

	env["SWITCHBOARD_TWILIO_FROM"], env["SWITCHBOARD_TWILIO_BASE_URL"] = "whatsapp:+1555", "http://127.0.0.1:9999"
	c, err = LoadConfig(get)
	require.NoError(t, err)
	require.True(t, c.WhatsAppOn())
	require.Equal(t, "http://127.0.0.1:9999", c.Twilio.BaseURL)
	require.Equal(t, "g-1", c.WhatsAppGroup)
}
