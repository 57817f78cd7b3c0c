// Package sample makes small real files of a few kinds in code (no binary fixture is shipped),
// for the tests of filetype, the API and the integration suite.
package sample

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
)

// PDF is a minimal one-page PDF.
func PDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
		"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
		"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n" +
		"trailer<</Root 1 0 R>>\n%%EOF\n")
}

func img() image.Image {
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			m.Set(x, y, color.RGBA{uint8(x * 30), uint8(y * 30), 128, 255})
		}
	}
	return m
}

// PNG is an 8x8 image.
func PNG() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img())
	return b.Bytes()
}

// JPEG is an 8x8 image.
func JPEG() []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img(), nil)
	return b.Bytes()
}

// GIF is an 8x8 image.
func GIF() []byte {
	var b bytes.Buffer
	_ = gif.Encode(&b, img(), nil)
	return b.Bytes()
}

// WAV is a tenth of a second of a 440 Hz tone, 8 kHz mono 16-bit PCM: a voice note.
func WAV() []byte {
	const rate, n = 8000, 800
	var data bytes.Buffer
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		_ = binary.Write(&data, binary.LittleEndian, v)
	}
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + data.Len()))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// OggOpus is the first page of an Ogg Opus stream (its OpusHead): what a browser's recorder
// starts a voice note with.
func OggOpus() []byte {
	head := []byte("OpusHead")
	head = append(head, 1, 1) // version, channels
	head = binary.LittleEndian.AppendUint16(head, 312)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0) // gain, mapping family
	var b bytes.Buffer
	b.WriteString("OggS")
	b.WriteByte(0) // version
	b.WriteByte(2) // beginning of stream
	b.Write(make([]byte, 8))
	_ = binary.Write(&b, binary.LittleEndian, uint32(0x5157))
	_ = binary.Write(&b, binary.LittleEndian, uint32(0))
	_ = binary.Write(&b, binary.LittleEndian, uint32(0)) // checksum (not checked by detection)
	b.WriteByte(1)
	b.WriteByte(byte(len(head)))
	b.Write(head)
	return b.Bytes()
}

// DOCX is a minimal Word document (a zip with word/document.xml).
func DOCX() []byte {
	return zipOf([][2]string{
		{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"word/document.xml", `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>`},
	})
}

// Zip is a plain zip archive.
func Zip() []byte { return zipOf([][2]string{{"a.txt", "hello"}}) }

func zipOf(files [][2]string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		fw, _ := w.Create(f[0])
		_, _ = fw.Write([]byte(f[1]))
	}
	_ = w.Close()
	return b.Bytes()
}

// ELF is the start of a Linux x86-64 executable.
func ELF() []byte {
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}
	b = append(b, make([]byte, 8)...)
	b = binary.LittleEndian.AppendUint16(b, 2)    // ET_EXEC
	b = binary.LittleEndian.AppendUint16(b, 0x3e) // x86-64
	b = binary.LittleEndian.AppendUint32(b, 1)
	return append(b, make([]byte, 200)...)
}

// EXE is the start of a Windows program (MZ header pointing at a PE header).
func EXE() []byte {
	b := make([]byte, 256)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	return b
}

// Text is plain UTF-8 text.
func Text() []byte { return []byte("Hello,\nthe printer on floor 3 is out of toner again.\n") }
