// Package webhook sends webhook deliveries the Standard Webhooks way
// (https://www.standardwebhooks.com): HMAC-SHA256 signatures over id, timestamp and body, a
// guard that refuses to connect to internal addresses, and one HTTP attempt at a time (the
// retry schedule belongs to the WebhookDelivery workflow).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every secret, as in Standard Webhooks.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh secret: whsec_ and the base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ErrBadSecret is a secret that is not whsec_ followed by base64.
var ErrBadSecret = errors.New("webhook: the secret is not whsec_ followed by base64")

// secretKey is the HMAC key: the base64-decoded part after whsec_.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a message: v1, and the base64 of
// HMAC-SHA256(key, id.timestamp.body).
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a webhook-signature header (which may list several space-separated
// signatures, as during a secret rotation on the receiver's side) against a message. It is
// what a receiver does; Switchboard uses it in tests.
func Verify(secret, id string, at time.Time, body []byte, header string) bool {
	want, err := Sign(secret, id, at, body)
	if err != nil {
		return false
	}
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}
