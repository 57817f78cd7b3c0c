package api

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

func contains[T comparable](s []T, v T) bool { return slices.Contains(s, v) }

func itoa(i int) string { return strconv.Itoa(i) }

func parseBool(param, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errField(param, "must be true or false")
	}
	return b, nil
}

func parseTime(param, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errField(param, "must be an RFC 3339 time such as 2026-11-21T09:00:00Z")
	}
	return t, nil
}

// csv splits a comma-separated query value.
func csv(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string { return likeEscaper.Replace(s) }
