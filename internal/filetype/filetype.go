// Package filetype decides what an uploaded file is from its content (with
// github.com/gabriel-vasile/mimetype), never from its name or the client's Content-Type, and
// checks it against the messenger's allow-list: AAC, AVI, DOCX, FLAC, GIF, JPEG, M4A, MATROSKA,
// MP3, MP4, MSVIDEO, ODT, OGG, OPUS, PDF, PNG, PPT, PPTX, QUICKTIME, TXT, VORBIS, WAV, WEBM, WMV,
// XLS, XLSX. A file's name may carry no extension; when it carries one, the extension must be one
// of the detected type's (a PNG named .pdf, or a program named .pdf, is refused).
package filetype

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// HeadSize is how many leading bytes Detect needs: mimetype's read limit.
const HeadSize = 3072

// Kind is one allowed type of the seed's list.
type Kind struct {
	Name  string   // the seed's name: PDF, OPUS, ...
	MIMEs []string // the mimetype types (or aliases) that are this kind
	Exts  []string // the extensions a file of this kind may be named with, lower case with the dot
}

// Kinds is the allow-list, in the seed's order. AVI and MSVIDEO are the same format, as are the
// Ogg family's OGG, OPUS and VORBIS (one container; mimetype tells audio from video, not the codec).
var Kinds = []Kind{
	{"AAC", []string{"audio/aac"}, []string{".aac"}},
	{"AVI", []string{"video/x-msvideo"}, []string{".avi"}},
	{"DOCX", []string{"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, []string{".docx"}},
	{"FLAC", []string{"audio/flac"}, []string{".flac"}},
	{"GIF", []string{"image/gif"}, []string{".gif"}},
	{"JPEG", []string{"image/jpeg"}, []string{".jpg", ".jpeg", ".jpe", ".jfif"}},
	{"M4A", []string{"audio/x-m4a", "audio/mp4"}, []string{".m4a", ".mp4"}},
	{"MATROSKA", []string{"video/x-matroska"}, []string{".mkv", ".mka", ".mk3d"}},
	{"MP3", []string{"audio/mpeg"}, []string{".mp3"}},
	{"MP4", []string{"video/mp4", "video/x-m4v"}, []string{".mp4", ".m4v"}},
	{"MSVIDEO", []string{"video/x-msvideo"}, []string{".avi"}},
	{"ODT", []string{"application/vnd.oasis.opendocument.text"}, []string{".odt"}},
	{"OGG", []string{"application/ogg", "audio/ogg", "video/ogg"}, []string{".ogg", ".oga", ".ogv", ".opus", ".spx"}},
	{"OPUS", []string{"audio/ogg"}, []string{".opus", ".ogg", ".oga"}},
	{"PDF", []string{"application/pdf"}, []string{".pdf"}},
	{"PNG", []string{"image/png", "image/apng"}, []string{".png", ".apng"}},
	{"PPT", []string{"application/vnd.ms-powerpoint"}, []string{".ppt", ".pps", ".pot"}},
	{"PPTX", []string{"application/vnd.openxmlformats-officedocument.presentationml.presentation"}, []string{".pptx"}},
	{"QUICKTIME", []string{"video/quicktime"}, []string{".mov", ".qt"}},
	{"TXT", []string{"text/plain"}, []string{".txt", ".text", ".log"}},
	{"VORBIS", []string{"audio/ogg"}, []string{".ogg", ".oga"}},
	{"WAV", []string{"audio/wav"}, []string{".wav"}},
	{"WEBM", []string{"video/webm"}, []string{".webm"}},
	{"WMV", []string{"video/x-ms-asf"}, []string{".wmv", ".asf"}},
	{"XLS", []string{"application/vnd.ms-excel"}, []string{".xls", ".xlt"}},
	{"XLSX", []string{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, []string{".xlsx"}},
}

// Names is the allow-list's names, as listed in errors.
func Names() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Name
	}
	return out
}

// Type is what a file was found to be.
type Type struct {
	Kind        string // the seed's name of its kind
	ContentType string // what it is served as
}

// Error is a refused file: its type is not allowed, or its name says otherwise.
type Error struct {
	Filename string
	Detected string // the detected MIME type
	Reason   string
}

func (e *Error) Error() string { return e.Reason }

// Check decides the type of a file from its first bytes (at least HeadSize of them, or the whole
// file when it is shorter) and checks it against the allow-list and against its name.
func Check(filename string, head []byte) (Type, error) {
	m := mimetype.Detect(head)
	detected := m.String()
	kinds := kindsOf(m)
	// Text of any kind (JSON, CSV, HTML, SVG ...) named as text is plain text: it is allowed as
	// TXT and served as text/plain, never as markup.
	textual := false
	if len(kinds) == 0 && isText(m) {
		textual = true
		kinds = []Kind{kindByName("TXT")}
	}
	if len(kinds) == 0 {
		return Type{}, &Error{Filename: filename, Detected: detected,
			Reason: fmt.Sprintf("%q is %s, which is not an allowed file type; allowed: %s",
				filename, describe(m), strings.Join(Names(), ", "))}
	}
	ext := strings.ToLower(filepath.Ext(filename))
	if ext != "" {
		var exts []string
		for _, k := range kinds {
			for _, e := range k.Exts {
				if !slices.Contains(exts, e) {
					exts = append(exts, e)
				}
			}
		}
		if !slices.Contains(exts, ext) {
			return Type{}, &Error{Filename: filename, Detected: detected,
				Reason: fmt.Sprintf("%q is named %s but its content is %s (%s, named %s); allowed: %s",
					filename, ext, describe(m), kinds[0].Name, strings.Join(exts, " "), strings.Join(Names(), ", "))}
		}
	}
	ct := m.String()
	if textual || kinds[0].Name == "TXT" {
		ct = "text/plain; charset=utf-8"
		if cs := charset(m); cs != "" {
			ct = "text/plain; charset=" + cs
		}
	}
	return Type{Kind: kinds[0].Name, ContentType: ct}, nil
}

func kindsOf(m *mimetype.MIME) []Kind {
	var out []Kind
	for _, k := range Kinds {
		for _, t := range k.MIMEs {
			if m.Is(t) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func kindByName(name string) Kind {
	for _, k := range Kinds {
		if k.Name == name {
			return k
		}
	}
	panic("filetype: no kind " + name)
}

func isText(m *mimetype.MIME) bool {
	for p := m; p != nil; p = p.Parent() {
		if p.Is("text/plain") {
			return true
		}
	}
	return false
}

func charset(m *mimetype.MIME) string {
	_, params, ok := strings.Cut(m.String(), ";")
	if !ok {
		return ""
	}
	for _, p := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "charset") {
			return strings.ToLower(v)
		}
	}
	return ""
}

func describe(m *mimetype.MIME) string {
	if m.Is("application/octet-stream") {
		return "of an unknown type (application/octet-stream)"
	}
	return m.String()
}
