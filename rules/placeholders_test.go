package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlaceholders(t *testing.T) {
	vals := Placeholders{"ticket": {"id": "42", "subject": "Printer"}, "customer": {"name": "Carla"}, "agent": {"name": "Ada"}}
	out, err := RenderPlaceholders("Hi {{customer.name}}, about #{{ ticket.id }} ({{ticket.subject}}){{if agent.name}}: {{agent.name}}{{end}}", vals, 100)
	require.NoError(t, err)
	require.Equal(t, "Hi Carla, about #42 (Printer): Ada", out)
	out, err = RenderPlaceholders("[{{ticket.protocol}}]", vals, 100)
	require.NoError(t, err)
	require.Equal(t, "[]", out, "a value the ticket lacks is empty")

	_, err = RenderPlaceholders(strings.Repeat("{{ticket.subject}}", 20), vals, 100)
	require.ErrorIs(t, err, ErrTooLong)
	_, err = RenderPlaceholders(`{{printf "%99999s" "x"}}`, vals, 100)
	require.Error(t, err)

	for text, want := range map[string][]string{
		"Hello {{ticket.subject}} {{customer.name}} {{agent.name}}": nil,
		"{{ticket.subjct}} and {{agent.phone}}":                     {"{{ticket.subjct}}", "{{agent.phone}}"},
		"{{.subject}}":                                              {"{{.subject}}"},
		"{{ticket}}":                                                {"{{ticket}}"},
		"{{ticket.subject.x}}":                                      {"{{ticket.subject.x}}"},
		`{{printf "%s" customer.nme}}`:                              {"{{customer.nme}}"},
		"{{if ticket.x}}{{end}}{{ticket.x}}":                        {"{{ticket.x}}"},
	} {
		got, err := CheckPlaceholders(text, TextBlockPlaceholders)
		require.NoError(t, err, text)
		require.Equal(t, want, got, text)
	}
	_, err = CheckPlaceholders("{{customer_name}}", TextBlockPlaceholders)
	require.ErrorContains(t, err, `"customer_name" not defined`)
	_, err = CheckPlaceholders(`{{define "x"}}{{end}}`, TextBlockPlaceholders)
	require.Error(t, err)
	require.Contains(t, TextBlockPlaceholders.Names(), "{{ticket.subject}}")
}
