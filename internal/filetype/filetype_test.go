package filetype

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/internal/filetype/sample"
)

func head(b []byte) []byte { return b[:min(len(b), HeadSize)] }

func TestAllowedTypesAreDetectedFromContent(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		kind string
		ct   string
	}{
		{"report.pdf", sample.PDF(), "PDF", "application/pdf"},
		{"Screenshot.PNG", sample.PNG(), "PNG", "image/png"},
		{"photo.jpeg", sample.JPEG(), "JPEG", "image/jpeg"},
		{"photo.jpg", sample.JPEG(), "JPEG", "image/jpeg"},
		{"anim.gif", sample.GIF(), "GIF", "image/gif"},
		{"voice.wav", sample.WAV(), "WAV", "audio/wav"},
		{"voice.ogg", sample.OggOpus(), "OGG", "audio/ogg"},
		{"voice.opus", sample.OggOpus(), "OGG", "audio/ogg"},
		{"letter.docx", sample.DOCX(), "DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"notes.txt", sample.Text(), "TXT", "text/plain; charset=utf-8"},
		// No extension: nothing contradicts the content (a recorder's "blob").
		{"blob", sample.OggOpus(), "OGG", "audio/ogg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, err := Check(c.name, head(c.data))
			require.NoError(t, err)
			require.Equal(t, c.kind, typ.Kind)
			require.Equal(t, c.ct, typ.ContentType)
		})
	}
}

// The type comes from the content: a short file is checked whole, as given.
func TestShortContent(t *testing.T) {
	_, err := Check("empty.txt", nil)
	require.NoError(t, err, "an empty file is empty text")
}

func TestRefused(t *testing.T) {
	cases := []struct {
		name, why string
		data      []byte
	}{
		{"invoice.pdf", "not an allowed file type", sample.ELF()},
		{"invoice.pdf", "not an allowed file type", sample.EXE()},
		{"setup.exe", "not an allowed file type", sample.EXE()},
		{"archive.zip", "not an allowed file type", sample.Zip()},
		{"letter.docx", "not an allowed file type", sample.Zip()}, // a zip is not a document
		{"image.pdf", "is named .pdf but its content is image/png", sample.PNG()},
		{"voice.mp3", "is named .mp3 but its content is audio/wav", sample.WAV()},
		{"page.html", "is named .html but its content is text/html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")},
		{"random.bin", "unknown type", []byte{0x00, 0xff, 0x13, 0x37, 0x00, 0x01, 0x02, 0x03}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(c.name, head(c.data))
			require.Error(t, err)
			var fe *Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.name, fe.Filename)
			require.Contains(t, err.Error(), c.why)
			require.Contains(t, err.Error(), `"`+c.name+`"`, "the error names the file")
			require.Contains(t, err.Error(), "allowed: AAC, AVI, DOCX", "the error lists the allowed types")
		})
	}
}

// Markup named as text is text: accepted as TXT, and served as text/plain, never as HTML.
func TestMarkupNamedAsTextIsPlainText(t *testing.T) {
	typ, err := Check("page.txt", []byte("<html><body><script>alert(1)</script></body></html>"))
	require.NoError(t, err)
	require.Equal(t, "TXT", typ.Kind)
	require.True(t, strings.HasPrefix(typ.ContentType, "text/plain"), typ.ContentType)
}

func TestAllowListIsTheSeeds(t *testing.T) {
	require.Equal(t, "AAC, AVI, DOCX, FLAC, GIF, JPEG, M4A, MATROSKA, MP3, MP4, MSVIDEO, ODT, OGG, OPUS, PDF, PNG, "+
		"PPT, PPTX, QUICKTIME, TXT, VORBIS, WAV, WEBM, WMV, XLS, XLSX", strings.Join(Names(), ", "))
	for _, k := range Kinds {
		require.NotEmpty(t, k.MIMEs, k.Name)
		require.NotEmpty(t, k.Exts, k.Name)
		for _, e := range k.Exts {
			require.Equal(t, strings.ToLower(e), e)
			require.True(t, strings.HasPrefix(e, "."))
		}
	}
}
