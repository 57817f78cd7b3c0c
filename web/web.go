// Package web is the embeddable chat widget: widget.js (plain JavaScript, no build step) and a
// demo page that embeds it, both carried by the binary.
package web

import (
	"bytes"
	_ "embed"
	"html/template"
)

// WidgetJS is the widget script, served at /widget.js.
//
//go:embed widget.js
var WidgetJS []byte

//go:embed demo.html
var demoHTML string

var demo = template.Must(template.New("demo").Parse(demoHTML))

// DemoPage is the demo page embedding the widget of key, its script loaded from src.
func DemoPage(src, key string) ([]byte, error) {
	var b bytes.Buffer
	err := demo.Execute(&b, struct{ Src, Key string }{src, key})
	return b.Bytes(), err
}
