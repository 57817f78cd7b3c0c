package markup

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func TestRender(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"emphasis", "**bold** _it_ ~~gone~~", "<p><strong>bold</strong> <em>it</em> <del>gone</del></p>"},
		{"bare URL", "see https://example.com/a?b=1",
			`<p>see <a href="https://example.com/a?b=1" rel="nofollow noreferrer noopener" target="_blank">https://example.com/a?b=1</a></p>`},
		{"www", "www.example.com",
			`<p><a href="http://www.example.com" rel="nofollow noreferrer noopener" target="_blank">www.example.com</a></p>`},
		{"e-mail", "write to ana@example.com",
			`<p>write to <a href="mailto:ana@example.com" rel="nofollow noreferrer">ana@example.com</a></p>`},
		{"markdown link", "[docs](https://example.com/docs)",
			`<p><a href="https://example.com/docs" rel="nofollow noreferrer noopener" target="_blank">docs</a></p>`},
		{"line breaks", "one\ntwo", "<p>one<br>\ntwo</p>"},
		{"code", "```go\nx := 1 < 2\n```", "<pre><code class=\"language-go\">x := 1 &lt; 2\n</code></pre>"},
		{"inline code", "`<b>`", "<p><code>&lt;b&gt;</code></p>"},
		{"table", "| a | b |\n|:-|-:|\n| 1 | 2 |",
			"<table>\n<thead>\n<tr>\n<th align=\"left\">a</th>\n<th align=\"right\">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"left\">1</td>\n<td align=\"right\">2</td>\n</tr>\n</tbody>\n</table>"},
		{"raw HTML is text", "<b>hi</b>", "<p>&lt;b&gt;hi&lt;/b&gt;</p>"},
		{"HTML block is text", "<div onclick=\"x()\">\nhi\n</div>", "<p>&lt;div onclick=&#34;x()&#34;&gt;<br>\nhi<br>\n&lt;/div&gt;</p>"},
		{"image", "![cat](https://img.example.com/cat.png)", `<p><img src="https://img.example.com/cat.png" alt="cat"></p>`},
		{"list", "1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"},
		{"ordered list start", "3. c", "<ol start=\"3\">\n<li>c</li>\n</ol>"},
		// Text assistant links.
		{"assistant link", "[[/kb/reset-password | Reset your password]]",
			`<p><a href="/kb/reset-password" rel="nofollow noreferrer">Reset your password</a></p>`},
		{"assistant link, absolute", "see [[https://help.example.com/a | Article]] now",
			`<p>see <a href="https://help.example.com/a" rel="nofollow noreferrer noopener" target="_blank">Article</a> now</p>`},
		{"assistant link, escapes", `[[/kb/x | A \| B \] C \\ D]]`,
			`<p><a href="/kb/x" rel="nofollow noreferrer">A | B ] C \ D</a></p>`},
		{"assistant link, HTML in text", "[[/kb/x | <b>&amp;</b>]]",
			`<p><a href="/kb/x" rel="nofollow noreferrer">&lt;b&gt;&amp;amp;&lt;/b&gt;</a></p>`},
		{"assistant link, javascript", "[[javascript:alert(1) | click]]", "<p>[[javascript:alert(1) | click]]</p>"},
		{"assistant link, data", "[[data:text/html,x | click]]", "<p>[[data:text/html,x | click]]</p>"},
		{"assistant link, protocol-relative", "[[//evil.example | click]]", "<p>[[//evil.example | click]]</p>"},
		{"assistant link, relative", "[[kb/x | click]]", "<p>[[kb/x | click]]</p>"},
		{"assistant link, no text", "[[/kb/x | ]]", "<p>[[/kb/x | ]]</p>"},
		{"assistant link in code", "`[[/kb/x | y]]`", "<p><code>[[/kb/x | y]]</code></p>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, strings.TrimSpace(Render(c.in)))
		})
	}
}

func TestAssistantLinkRoundTrips(t *testing.T) {
	for _, c := range []struct{ url, text, wantURL, wantText string }{
		{"/kb/reset-password", "Reset your password", "/kb/reset-password", "Reset your password"},
		{"/kb/a", "A | B", "/kb/a", "A | B"},
		{"/kb/a", "A ]] B [[ C", "/kb/a", "A ]] B [[ C"},
		{"/kb/a", `back\slash \| \]`, "/kb/a", `back\slash \| \]`},
		{"/kb/a", "two\nlines", "/kb/a", "two lines"},
		{"https://x.example/a b|c]d", "T", "https://x.example/a%20b%7Cc%5Dd", "T"},
	} {
		tok := AssistantLink(c.url, c.text)
		u, text, n, ok := ParseAssistantLink(tok + " and more")
		require.True(t, ok, tok)
		require.Equal(t, len(tok), n, tok)
		require.Equal(t, c.wantURL, u, tok)
		require.Equal(t, c.wantText, text, tok)
	}
	require.Equal(t, "[[/kb/a | Reset]]", AssistantLink("/kb/a", "Reset"))
	require.Contains(t, Render(AssistantLink("/kb/a", "A | B ]] C")), `<a href="/kb/a" rel="nofollow noreferrer">A | B ]] C</a>`)
}

func TestLinkableURL(t *testing.T) {
	for u, want := range map[string]bool{
		"/kb/a": true, "https://x.example/a": true, "http://x.example": true,
		"//x.example": false, "javascript:alert(1)": false, "JaVaScRiPt:alert(1)": false, "data:text/html,x": false,
		"vbscript:x": false, "mailto:a@b.c": false, "ftp://x.example": false, "kb/a": false, "https:x": false,
		"/\\evil.example": false, "https://": false,
	} {
		require.Equal(t, want, LinkableURL(u), u)
	}
}

// xssPayloads are classic payloads, after OWASP's XSS filter evasion cheat sheet, in markdown
// and in HTML.
var xssPayloads = []string{
	`<script>alert('XSS')</script>`,
	`<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>`,
	`<IMG SRC="javascript:alert('XSS');">`,
	`<IMG SRC=javascript:alert('XSS')>`,
	`<IMG SRC=JaVaScRiPt:alert('XSS')>`,
	"<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
	`<a onmouseover="alert(document.cookie)">xxs link</a>`,
	`<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\>`,
	`<IMG SRC=# onmouseover="alert('xxs')">`,
	`<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>`,
	`<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">`,
	`<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`,
	`<IMG SRC="jav	ascript:alert('XSS');">`,
	`<IMG SRC="jav&#x09;ascript:alert('XSS');">`,
	`<IMG SRC=" &#14;  javascript:alert('XSS');">`,
	`<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>`,
	`<BODY onload!#$%&()*~+-_.,:;?@[/|\]^` + "`" + `=alert("XSS")>`,
	`<<SCRIPT>alert("XSS");//\<</SCRIPT>`,
	`<iframe src=http://xss.example/scriptlet.html <`,
	`</TITLE><SCRIPT>alert("XSS");</SCRIPT>`,
	`<INPUT TYPE="IMAGE" SRC="javascript:alert('XSS');">`,
	`<BODY BACKGROUND="javascript:alert('XSS')">`,
	`<svg/onload=alert('XSS')>`,
	`<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>`,
	`<LINK REL="stylesheet" HREF="javascript:alert('XSS');">`,
	`<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`,
	`<IFRAME SRC="javascript:alert('XSS');"></IFRAME>`,
	`<TABLE BACKGROUND="javascript:alert('XSS')">`,
	`<DIV STYLE="background-image: url(javascript:alert('XSS'))">`,
	`<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
	`<details open ontoggle=alert(1)>`,
	// Markdown's own ways in.
	`[click](javascript:alert(1))`,
	`[click](JAVASCRIPT:alert(1))`,
	`[click](  javascript:alert(1))`,
	`[click](java&#x73;cript:alert(1))`,
	`[click](java%73cript:alert(1))`,
	`[click](vbscript:msgbox(1))`,
	`[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`[click](<javascript:alert(1)>)`,
	`![x](javascript:alert(1))`,
	`![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
	`[x](https://example.com "title\" onmouseover=\"alert(1)")`,
	`<javascript:alert(1)>`,
	`[x]: javascript:alert(1)` + "\n\n[x]",
	"```\"><script>alert(1)</script>\n```",
	"```js onload=alert(1)\nx\n```",
	`[[javascript:alert(1) | click]]`,
	`[[JavaScript:alert(1) | click]]`,
	`[[data:text/html,<script>alert(1)</script> | click]]`,
	`[[/kb/x" onmouseover="alert(1) | click]]`,
	`[[https://example.com/"><script>alert(1)</script> | click]]`,
	`[[/kb/x | <script>alert(1)</script>]]`,
	`[[/kb/x | <img src=x onerror=alert(1)>]]`,
	`| a |` + "\n|---|\n" + `| <script>alert(1)</script> |`,
}

func TestXSSPayloadsAreInert(t *testing.T) {
	for _, p := range xssPayloads {
		t.Run(p, func(t *testing.T) {
			out := Render(p)
			if why := unsafeHTML(out); why != "" {
				t.Fatalf("%s\nin: %s\nout: %s", why, p, out)
			}
		})
	}
}

func FuzzRender(f *testing.F) {
	for _, p := range xssPayloads {
		f.Add(p)
	}
	f.Add("**bold** https://example.com ana@example.com [[/kb/a | A]]")
	f.Add("| a |\n|:-:|\n| [[/kb/a | A \\| B]] |")
	f.Fuzz(func(t *testing.T, in string) {
		out := Render(in)
		if why := unsafeHTML(out); why != "" {
			t.Fatalf("%s\nin: %q\nout: %s", why, in, out)
		}
	})
}

// allowedTags are the only elements the output may hold.
var allowedTags = map[string]bool{"p": true, "br": true, "hr": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "blockquote": true, "pre": true, "code": true, "em": true, "strong": true, "del": true,
	"ul": true, "ol": true, "li": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"a": true, "img": true}

// unsafeHTML says what in out could run script or restyle the page, or "" when nothing.
func unsafeHTML(out string) string {
	lower := strings.ToLower(out)
	for _, s := range []string{"<script", "<style", "<iframe", "<object", "<embed", "<svg", "<math"} {
		if strings.Contains(lower, s) {
			return "has " + s
		}
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				return "has the element " + tok.Data
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" {
					return "has the attribute " + a.Key
				}
				if key == "href" || key == "src" {
					v := strings.Map(func(r rune) rune {
						if r <= ' ' || r == 0x7f {
							return -1
						}
						return r
					}, strings.ToLower(a.Val))
					for _, scheme := range []string{"javascript:", "data:", "vbscript:"} {
						if strings.HasPrefix(v, scheme) {
							return "has a " + scheme + " " + key
						}
					}
				}
			}
		}
	}
}

// A long line of brackets renders in linear time (each [ reads at most MaxAssistantLink bytes).
func TestManyBracketsAreCheap(t *testing.T) {
	in := strings.Repeat("[[/kb/a ", 20000)
	out := Render(in)
	require.Contains(t, out, "[[/kb/a")
}
