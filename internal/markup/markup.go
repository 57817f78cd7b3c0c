// Package markup turns what people write (markdown) into HTML that is safe to show to anyone:
// goldmark renders it, with GitHub's autolinks, strikethrough and tables and without raw HTML,
// and bluemonday keeps only the elements and attributes markdown itself produces. Text
// assistant links, [[URL | link text]], render as links to http(s) URLs and site-relative
// paths.
package markup

import (
	"bytes"
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// md renders markdown. Raw HTML is never passed through: goldmark runs without html.WithUnsafe
// and without its HTML parsers, so that <b> or <script> someone types is shown as the text it
// is instead of disappearing. Line breaks are kept, as people type chat messages. Task lists
// are left out: their checkboxes are <input> elements.
var md = goldmark.New(
	goldmark.WithParser(parser.NewParser(
		parser.WithBlockParsers(without(parser.DefaultBlockParsers(), parser.NewHTMLBlockParser())...),
		parser.WithInlineParsers(without(parser.DefaultInlineParsers(), parser.NewRawHTMLParser())...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)),
	goldmark.WithExtensions(extension.Linkify, extension.Strikethrough,
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))),
	goldmark.WithParserOptions(parser.WithInlineParsers(util.Prioritized(assistantLinkParser{}, 199))),
	goldmark.WithRendererOptions(html.WithHardWraps()),
)

// without is the parsers but the one of drop's type.
func without[P any](ps []util.PrioritizedValue, drop P) []util.PrioritizedValue {
	out := make([]util.PrioritizedValue, 0, len(ps))
	for _, p := range ps {
		if reflect.TypeOf(p.Value) != reflect.TypeOf(drop) {
			out = append(out, p)
		}
	}
	return out
}

// policy is bluemonday's user-content policy narrowed to the markup markdown produces: no
// style attributes, classes only for a code block's language, links and images only to
// http(s), mailto (links) and site-relative URLs.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
		"em", "strong", "del", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "alt", "title").OnElements("img")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true) // and rel=noopener with it
	return p
}()

// Render returns markdown as sanitized HTML.
func Render(markdown string) string {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		// goldmark's HTML writer fails only when the buffer does; show the text, escaped.
		return "<p>" + string(util.EscapeHTML([]byte(markdown))) + "</p>"
	}
	return policy.Sanitize(buf.String())
}

// --- text assistant links

// AssistantLink builds the text assistant link token [[url | text]]. In text, \ | and ]
// are escaped with a backslash so that the token reads back as given; in the URL, | ] and
// blanks are percent-encoded.
func AssistantLink(u, linkText string) string {
	u = strings.NewReplacer("|", "%7C", "]", "%5D", "[", "%5B", " ", "%20", "\t", "%09", "\n", "%0A", "\r", "%0D").Replace(u)
	linkText = strings.Join(strings.Fields(linkText), " ") // one line
	linkText = strings.NewReplacer(`\`, `\\`, `|`, `\|`, `]`, `\]`).Replace(linkText)
	return "[[" + u + " | " + linkText + "]]"
}

// MaxAssistantLink is the longest token read as a text assistant link: reading is bounded, so
// that a line of many [[ costs linear time, not quadratic.
const MaxAssistantLink = 4096

// ParseAssistantLink reads a token at the start of s: the URL, the link text (unescaped) and
// the token's length; ok is false when s does not start with one.
func ParseAssistantLink(s string) (u, linkText string, n int, ok bool) {
	return parseAssistantLink(s)
}

func parseAssistantLink[S string | []byte](s S) (u, linkText string, n int, ok bool) {
	if len(s) < 2 || s[0] != '[' || s[1] != '[' {
		return "", "", 0, false
	}
	bar := -1
	var b strings.Builder
	for i := 2; i < len(s) && i < MaxAssistantLink; i++ {
		c := s[i]
		switch {
		case c == '\n' || c == '\r':
			return "", "", 0, false
		case bar < 0 && c == '|':
			bar = i
		case bar < 0 && (c == ']' || c != ' ' && c != '\t' && i > 2 && (s[i-1] == ' ' || s[i-1] == '\t')):
			return "", "", 0, false // the URL holds no ] and no blank; only blanks come before the bar
		case bar >= 0 && c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '|' || s[i+1] == ']'):
			b.WriteByte(s[i+1])
			i++
		case bar >= 0 && c == ']' && i+1 < len(s) && s[i+1] == ']':
			u = strings.TrimSpace(string(s[2:bar]))
			linkText = strings.TrimSpace(b.String())
			if u == "" || linkText == "" {
				return "", "", 0, false
			}
			return u, linkText, i + 2, true
		case bar >= 0 && c == '|':
			return "", "", 0, false // an unescaped second bar: not a token
		case bar >= 0:
			b.WriteByte(c)
		}
	}
	return "", "", 0, false
}

// LinkableURL tells whether an assistant link may point at u: an absolute http or https URL
// with a host, or a path on this site (/kb/slug; not //host, which leaves it).
func LinkableURL(u string) bool {
	if strings.ContainsAny(u, " \t\\") {
		return false
	}
	if strings.HasPrefix(u, "/") {
		return !strings.HasPrefix(u, "//")
	}
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	return (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.Opaque == ""
}

// assistantLinkParser parses [[URL | link text]] before goldmark's own link parser sees the
// brackets. A token whose URL is not linkable is left to the other parsers: it shows as text.
type assistantLinkParser struct{}

func (assistantLinkParser) Trigger() []byte { return []byte{'['} }

func (assistantLinkParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	u, linkText, n, ok := parseAssistantLink(line)
	if !ok || !LinkableURL(u) {
		return nil
	}
	block.Advance(n)
	link := ast.NewLink()
	link.Destination = []byte(u)
	label := ast.NewString([]byte(linkText))
	label.SetRaw(true) // written HTML-escaped, without resolving entities or backslashes again
	link.AppendChild(link, label)
	return link
}
