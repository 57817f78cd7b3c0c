//go:build cluster

// Package cluster tests Switchboard on the topology production uses: a Temporal server on
// PostgreSQL, two `switchboard api` and two `switchboard worker` processes, started by
// `make test-cluster` (scripts/cluster.sh), which passes their addresses in SWITCHBOARD_CLUSTER_*
// and the script that kills and restarts them in SWITCHBOARD_CLUSTER_CTL. The build tag keeps
// these tests out of `make test`; without the environment they skip, except under CI, where
// they fail.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/schema"
)

// cluster is the running cluster as the tests see it: two API base URLs, an admin token, the
// Switchboard database and the Temporal frontend.
type cluster struct {
	apis  [2]string
	admin string
	db    *bun.DB
	tc    client.Client
	ctl   string
}

func setup(t *testing.T) *cluster {
	t.Helper()
	get := func(k string) string { return os.Getenv("SWITCHBOARD_CLUSTER_" + k) }
	c := &cluster{apis: [2]string{get("API1"), get("API2")}, admin: get("ADMIN_TOKEN"), ctl: get("CTL")}
	dbURL, temporal := get("DATABASE_URL"), get("TEMPORAL_ADDRESS")
	if c.apis[0] == "" || c.apis[1] == "" || c.admin == "" || dbURL == "" || temporal == "" || c.ctl == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the SWITCHBOARD_CLUSTER_* environment is not: run `make test-cluster`")
		}
		t.Skip("no cluster; run `make test-cluster`")
	}
	c.db = schema.Open(dbURL)
	t.Cleanup(func() { _ = c.db.Close() })
	var err error
	c.tc, err = client.NewLazyClient(client.Options{HostPort: temporal})
	require.NoError(t, err)
	t.Cleanup(c.tc.Close)
	return c
}

// control runs scripts/cluster.sh kill|start <part>.
func (c *cluster) control(t *testing.T, verb, part string) {
	t.Helper()
	out, err := exec.Command("bash", c.ctl, verb, part).CombinedOutput()
	require.NoError(t, err, "cluster.sh %s %s: %s", verb, part, out)
	t.Logf("cluster.sh %s %s", verb, part)
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// httpClient bounds every request: a request to an instance whose Temporal or database is down
// must end, so the load loops can go on.
var httpClient = &http.Client{Timeout: 40 * time.Second}

type resp struct {
	status int
	body   []byte
}

func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func (r resp) expect(t *testing.T, status int) resp {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	return r
}

// do sends a request to one API instance; a transport error is returned, not fatal.
func do(base, token, method, path string, body any) (resp, error) {
	var raw io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return resp{}, err
		}
		raw = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, raw)
	if err != nil {
		return resp{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: data}, err
}

func (c *cluster) call(t *testing.T, api int, token, method, path string, body any) resp {
	t.Helper()
	r, err := do(c.apis[api], token, method, path, body)
	require.NoError(t, err, "%s %s on API %d", method, path, api+1)
	return r
}

// eventually polls f until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s", within, msg)
}

// workflowExists says whether ticket id has its workflow on the Temporal server.
func (c *cluster) workflowExists(t *testing.T, id int64) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.tc.DescribeWorkflowExecution(ctx, fmt.Sprintf("ticket/%d", id), "")
	return err == nil
}

// sse reads an agent's event stream on one API instance.
type sse struct{ events chan string }

func (c *cluster) stream(t *testing.T, api int, token string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", c.apis[api]+"/api/v1/stream?token="+url.QueryEscape(token), nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	out := &sse{events: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				out.events <- name
			}
		}
	}()
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return out
}

func (e *sse) next(t *testing.T) string {
	t.Helper()
	select {
	case ev := <-e.events:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event on the agent's stream")
		return ""
	}
}
