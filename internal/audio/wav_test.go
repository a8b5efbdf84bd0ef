package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// riffChunk is one chunk of a hand-built WAV file.
type riffChunk struct {
	id   string
	body []byte
	size uint32 // written in place of len(body) when nonzero
}

// buildWAV joins chunks into a RIFF WAVE file, padding odd chunks.
func buildWAV(chunks ...riffChunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		size := uint32(len(c.body))
		if c.size != 0 {
			size = c.size
		}
		body.WriteString(c.id)
		binary.Write(&body, binary.LittleEndian, size)
		body.Write(c.body)
		if len(c.body)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// fmtChunk returns a 16-byte fmt chunk body.
func fmtChunk(code, channels uint16, rate uint32, bits uint16) []byte {
	blockAlign := channels * bits / 8
	b := binary.LittleEndian.AppendUint16(nil, code)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(blockAlign))
	b = binary.LittleEndian.AppendUint16(b, blockAlign)
	return binary.LittleEndian.AppendUint16(b, bits)
}

// extensibleFmtChunk returns a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk body
// whose sub-format GUID carries subCode.
func extensibleFmtChunk(subCode, channels uint16, rate uint32, bits uint16) []byte {
	b := fmtChunk(wavFormatExtensible, channels, rate, bits)
	b = binary.LittleEndian.AppendUint16(b, 22) // cbSize
	b = binary.LittleEndian.AppendUint16(b, bits)
	b = binary.LittleEndian.AppendUint32(b, 0x4) // front center
	b = binary.LittleEndian.AppendUint16(b, subCode)
	return append(b, guidSuffix...)
}

func TestReadWAVFormats(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	pcmBytes := PCM16ToBytes(nil, pcm)
	mulaw := []byte{0xFF, 0x80, 0x00, 0x7E}
	muFmt := append(fmtChunk(wavFormatMulaw, 1, 8000, 8), 0, 0) // with cbSize, as real files have

	tests := []struct {
		name     string
		file     []byte
		rate     int
		channels int
		encoding Encoding
		samples  []int16
	}{
		{"pcm16 mono", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 16000, 16)}, riffChunk{id: "data", body: pcmBytes}),
			16000, 1, PCM16, pcm},
		{"pcm16 stereo", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 2, 44100, 16)}, riffChunk{id: "data", body: pcmBytes}),
			44100, 2, PCM16, pcm},
		{"mulaw with fact chunk", buildWAV(riffChunk{id: "fmt ", body: muFmt}, riffChunk{id: "fact", body: []byte{4, 0, 0, 0}}, riffChunk{id: "data", body: mulaw}),
			8000, 1, Mulaw, []int16{0, 32124, -32124, -8}},
		{"extensible pcm16", buildWAV(riffChunk{id: "fmt ", body: extensibleFmtChunk(1, 1, 24000, 16)}, riffChunk{id: "data", body: pcmBytes}),
			24000, 1, PCM16, pcm},
		{"extensible mulaw", buildWAV(riffChunk{id: "fmt ", body: extensibleFmtChunk(7, 1, 8000, 8)}, riffChunk{id: "data", body: mulaw}),
			8000, 1, Mulaw, []int16{0, 32124, -32124, -8}},
		{"LIST before fmt and odd chunk before data",
			buildWAV(riffChunk{id: "LIST", body: []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")}, riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)},
				riffChunk{id: "junk", body: []byte{1, 2, 3}}, riffChunk{id: "data", body: pcmBytes}),
			8000, 1, PCM16, pcm},
		{"chunks after data ignored", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: pcmBytes}, riffChunk{id: "LIST", body: []byte("x")}),
			8000, 1, PCM16, pcm},
		{"odd data size drops partial sample", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: append(bytes.Clone(pcmBytes), 0x55)}),
			8000, 1, PCM16, pcm},
		{"stereo partial frame dropped", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 2, 8000, 16)}, riffChunk{id: "data", body: pcmBytes[:10]}),
			8000, 2, PCM16, pcm[:4]},
		{"data shorter than stated", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: pcmBytes, size: 1000}),
			8000, 1, PCM16, pcm},
		{"unknown data size", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: pcmBytes, size: 0xFFFFFFFF}),
			8000, 1, PCM16, pcm},
		{"empty data", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data"}),
			8000, 1, PCM16, []int16{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ReadWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatalf("ReadWAV: %v", err)
			}
			if w.SampleRate != tt.rate {
				t.Errorf("SampleRate = %d, want %d", w.SampleRate, tt.rate)
			}
			if w.Channels != tt.channels {
				t.Errorf("Channels = %d, want %d", w.Channels, tt.channels)
			}
			if w.Encoding != tt.encoding {
				t.Errorf("Encoding = %v, want %v", w.Encoding, tt.encoding)
			}
			if !slices.Equal(w.Samples, tt.samples) {
				t.Errorf("Samples = %v, want %v", w.Samples, tt.samples)
			}
		})
	}
}

func TestReadWAVRejects(t *testing.T) {
	pcm := PCM16ToBytes(nil, []int16{1, 2})
	tests := []struct {
		name     string
		file     []byte
		sentinel error
		mention  string // text the error must contain
	}{
		{"empty input", nil, ErrInvalidWAV, "header"},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVEfmt "), ErrInvalidWAV, "RIFX"},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), ErrInvalidWAV, "AVI"},
		{"no data chunk", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}), ErrInvalidWAV, "no data chunk"},
		{"data before fmt", buildWAV(riffChunk{id: "data", body: pcm}, riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}), ErrInvalidWAV, "before fmt"},
		{"short fmt", buildWAV(riffChunk{id: "fmt ", body: make([]byte, 14)}, riffChunk{id: "data", body: pcm}), ErrInvalidWAV, "fmt chunk of 14 bytes"},
		{"truncated fmt", []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"), ErrInvalidWAV, "fmt"},
		{"truncated skipped chunk", []byte("RIFF\x00\x00\x00\x00WAVELIST\xff\x00\x00\x00abc"), ErrInvalidWAV, "LIST"},
		{"IEEE float", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(3, 1, 48000, 32)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "3 (IEEE float)"},
		{"A-law", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(6, 1, 8000, 8)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "6 (A-law)"},
		{"PCM 24-bit", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 48000, 24)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "1 (PCM), 24-bit"},
		{"PCM 8-bit", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 8)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "8-bit"},
		{"unknown code", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(0x1234, 1, 8000, 16)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "0x1234"},
		{"extensible float", buildWAV(riffChunk{id: "fmt ", body: extensibleFmtChunk(3, 1, 48000, 32)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "IEEE float"},
		{"extensible short", buildWAV(riffChunk{id: "fmt ", body: append(fmtChunk(wavFormatExtensible, 1, 8000, 16), 0, 0)}, riffChunk{id: "data", body: pcm}), ErrInvalidWAV, "want 40"},
		{"extensible foreign GUID", buildWAV(riffChunk{id: "fmt ", body: append(extensibleFmtChunk(1, 1, 8000, 16)[:39], 0x72)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "GUID"},
		{"zero channels", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 0, 8000, 16)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "0 channels"},
		{"nine channels", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 9, 8000, 16)}, riffChunk{id: "data", body: pcm}), ErrUnsupportedWAV, "9 channels"},
		{"zero rate", buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 0, 16)}, riffChunk{id: "data", body: pcm}), ErrInvalidWAV, "sample rate 0"},
		{"wrong block align", buildWAV(riffChunk{id: "fmt ", body: func() []byte {
			b := fmtChunk(1, 1, 8000, 16)
			b[12] = 4
			return b
		}()}, riffChunk{id: "data", body: pcm}), ErrInvalidWAV, "block align 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(tt.file))
			if err == nil {
				t.Fatal("ReadWAV returned no error")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestReadWAVUnsupportedNamesWhatIsSupported(t *testing.T) {
	file := buildWAV(riffChunk{id: "fmt ", body: fmtChunk(3, 1, 48000, 32)}, riffChunk{id: "data"})
	_, err := ReadWAV(bytes.NewReader(file))
	for _, want := range []string{"PCM 16-bit", "μ-law 8-bit", "WAVE_FORMAT_EXTENSIBLE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestReadWAVPassesReadErrors(t *testing.T) {
	file := buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: make([]byte, 100)})
	tests := []struct {
		name      string
		goodBytes int // bytes of file read before the error
	}{
		{"in header", 0},
		{"in fmt chunk", 24},
		{"in data", 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failure := errors.New("disk on fire")
			r := io.MultiReader(bytes.NewReader(file[:tt.goodBytes]), &failingReader{err: failure})
			_, err := ReadWAV(r)
			if !errors.Is(err, failure) {
				t.Errorf("ReadWAV error = %v, want it to wrap %v", err, failure)
			}
			if errors.Is(err, ErrInvalidWAV) {
				t.Errorf("ReadWAV error = %v, want a read error, not ErrInvalidWAV", err)
			}
		})
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestWAVMonoAndDuration(t *testing.T) {
	w := &WAV{SampleRate: 8000, Channels: 2, Encoding: PCM16, Samples: []int16{100, 300, -2, -4}}
	if got, want := w.Mono(), []int16{200, -3}; !slices.Equal(got, want) {
		t.Errorf("Mono() = %v, want %v", got, want)
	}
	if got, want := w.Duration(), 250*time.Microsecond; got != want {
		t.Errorf("Duration() = %v, want %v", got, want)
	}
}

func TestWriteWAVRoundTrip(t *testing.T) {
	samples := noise(10007, 9)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, 16000, samples); err != nil {
		t.Fatalf("WriteWAV: %v", err)
	}
	if got, want := buf.Len(), 44+2*len(samples); got != want {
		t.Errorf("file size = %d, want %d", got, want)
	}
	w, err := ReadWAV(&buf)
	if err != nil {
		t.Fatalf("ReadWAV: %v", err)
	}
	if w.SampleRate != 16000 || w.Channels != 1 || w.Encoding != PCM16 {
		t.Errorf("format = %d Hz, %d channels, %v; want 16000 Hz, 1 channel, pcm16", w.SampleRate, w.Channels, w.Encoding)
	}
	if !slices.Equal(w.Samples, samples) {
		t.Error("samples changed in the round trip")
	}
}

func TestWriteWAVRejectsBadRate(t *testing.T) {
	if err := WriteWAV(io.Discard, 0, nil); err == nil {
		t.Error("WriteWAV with rate 0 returned no error")
	}
}

func TestWAVWriterStreamsToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	prefix := []byte("prefix")
	if _, err := file.Write(prefix); err != nil {
		t.Fatal(err)
	}

	ww, err := NewWAVWriter(file, 8000)
	if err != nil {
		t.Fatalf("NewWAVWriter: %v", err)
	}
	samples := noise(9000, 10)
	for chunk := range slices.Chunk(samples, 160) {
		if err := ww.Write(chunk); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := ww.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ww.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := ww.Write(samples[:1]); !errors.Is(err, ErrWAVWriterClosed) {
		t.Errorf("Write after Close = %v, want ErrWAVWriterClosed", err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, prefix) {
		t.Fatalf("file does not start with the bytes written before the WAV")
	}
	data = data[len(prefix):]
	if got, want := binary.LittleEndian.Uint32(data[4:8]), uint32(36+2*len(samples)); got != want {
		t.Errorf("RIFF size = %d, want %d", got, want)
	}
	if got, want := binary.LittleEndian.Uint32(data[40:44]), uint32(2*len(samples)); got != want {
		t.Errorf("data size = %d, want %d", got, want)
	}
	w, err := ReadWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadWAV: %v", err)
	}
	if !slices.Equal(w.Samples, samples) {
		t.Error("samples read back differ from those written")
	}
}

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	data []byte
	pos  int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if end := s.pos + len(p); end > len(s.data) {
		s.data = append(s.data, make([]byte, end-len(s.data))...)
	}
	n := copy(s.data[s.pos:], p)
	s.pos += n
	return n, nil
}

func (s *seekBuffer) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		s.pos = int(offset)
	case io.SeekCurrent:
		s.pos += int(offset)
	case io.SeekEnd:
		s.pos = len(s.data) + int(offset)
	}
	return int64(s.pos), nil
}

func TestWAVWriterUnclosedFileStillReads(t *testing.T) {
	var buf seekBuffer
	ww, err := NewWAVWriter(&buf, 16000)
	if err != nil {
		t.Fatal(err)
	}
	samples := noise(1000, 11)
	if err := ww.Write(samples); err != nil {
		t.Fatal(err)
	}
	w, err := ReadWAV(bytes.NewReader(buf.data))
	if err != nil {
		t.Fatalf("ReadWAV of an unclosed file: %v", err)
	}
	if !slices.Equal(w.Samples, samples) {
		t.Errorf("read %d samples, want the %d written", len(w.Samples), len(samples))
	}
}

func TestWAVWriterKeepsFirstError(t *testing.T) {
	var buf seekBuffer
	ww, err := NewWAVWriter(&buf, 8000)
	if err != nil {
		t.Fatal(err)
	}
	failure := errors.New("disk full")
	ww.w = &failingWriteSeeker{seekBuffer: &buf, err: failure}
	if err := ww.Write([]int16{1}); !errors.Is(err, failure) {
		t.Errorf("Write = %v, want it to wrap %v", err, failure)
	}
	if err := ww.Write([]int16{1}); !errors.Is(err, failure) {
		t.Errorf("second Write = %v, want the first error again", err)
	}
}

type failingWriteSeeker struct {
	*seekBuffer
	err error
}

func (f *failingWriteSeeker) Write([]byte) (int, error) { return 0, f.err }

func TestReadWAVRecordings(t *testing.T) {
	tests := []struct {
		name     string
		dir      string
		pattern  string
		rate     int
		encoding Encoding
	}{
		{"coffee orders", "audio/coffee-orders", "*.wav", 16000, PCM16},
		{"coffee orders rhino", "audio/coffee-orders-rhino", "*.wav", 16000, PCM16},
		{"phone prompts", "audio/phone-prompts-8k", "*.wav", 8000, PCM16},
		{"twilio inbound", "protocol", "twilio-media-stream-inbound.ulaw.wav", 8000, Mulaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range testdataGlob(t, tt.dir, tt.pattern) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				w, err := ReadWAV(bytes.NewReader(data))
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(path), err)
					continue
				}
				if w.SampleRate != tt.rate || w.Channels != 1 || w.Encoding != tt.encoding {
					t.Errorf("%s: %d Hz, %d channels, %v; want %d Hz, 1 channel, %v",
						filepath.Base(path), w.SampleRate, w.Channels, w.Encoding, tt.rate, tt.encoding)
				}
				dataSize := dataChunkSize(t, data)
				if want := dataSize / tt.encoding.bytesPerSample(); len(w.Samples) != want {
					t.Errorf("%s: %d samples, want %d from the data chunk size", filepath.Base(path), len(w.Samples), want)
				}
				level := DBFS(w.Samples)
				t.Logf("%s: %v, %.1f dBFS", filepath.Base(path), w.Duration().Round(time.Millisecond), level)
				if level < -60 || level > 0 {
					t.Errorf("%s: level %.1f dBFS, want speech between -60 and 0", filepath.Base(path), level)
				}
			}
		})
	}
}

// dataChunkSize returns the size field of the first data chunk in a WAV file.
func dataChunkSize(tb testing.TB, file []byte) int {
	tb.Helper()
	for i := 12; i+8 <= len(file); {
		size := int(binary.LittleEndian.Uint32(file[i+4:]))
		if string(file[i:i+4]) == "data" {
			return size
		}
		i += 8 + size + size%2
	}
	tb.Fatal("no data chunk")
	return 0
}

func TestReadWAVTwilioMulawReencodes(t *testing.T) {
	data, err := os.ReadFile(testdataPath(t, "protocol/twilio-media-stream-inbound.ulaw.wav"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ReadWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Duration(), 7260*time.Millisecond; got != want {
		t.Errorf("Duration() = %v, want %v", got, want)
	}

	raw := data[len(data)-dataChunkSize(t, data):]
	encoded := EncodeMulaw(nil, w.Samples)
	for i, b := range raw {
		want := b
		if want == 0x7F {
			want = MulawSilence
		}
		if encoded[i] != want {
			t.Fatalf("byte %d re-encodes to %#02x, want %#02x", i, encoded[i], want)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	pcm := PCM16ToBytes(nil, []int16{0, 1, -1, 300})
	f.Add(buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 1, 16000, 16)}, riffChunk{id: "data", body: pcm}))
	f.Add(buildWAV(riffChunk{id: "fmt ", body: fmtChunk(1, 2, 8000, 16)}, riffChunk{id: "data", body: pcm}))
	f.Add(buildWAV(riffChunk{id: "fmt ", body: fmtChunk(7, 1, 8000, 8)}, riffChunk{id: "fact", body: []byte{4, 0, 0, 0}}, riffChunk{id: "data", body: []byte{1, 2, 3}}))
	f.Add(buildWAV(riffChunk{id: "fmt ", body: extensibleFmtChunk(1, 1, 48000, 16)}, riffChunk{id: "data", body: pcm}))
	f.Add(buildWAV(riffChunk{id: "LIST", body: []byte("INFO")}, riffChunk{id: "fmt ", body: fmtChunk(1, 1, 8000, 16)}, riffChunk{id: "data", body: pcm, size: 0xFFFFFFFF}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))

	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidWAV) && !errors.Is(err, ErrUnsupportedWAV) {
				t.Fatalf("error %q wraps neither ErrInvalidWAV nor ErrUnsupportedWAV", err)
			}
			return
		}
		if w.Channels < 1 || w.Channels > maxWAVChannels {
			t.Fatalf("Channels = %d", w.Channels)
		}
		if w.SampleRate < 1 || w.SampleRate > maxSampleRate {
			t.Fatalf("SampleRate = %d", w.SampleRate)
		}
		if len(w.Samples)%w.Channels != 0 {
			t.Fatalf("%d samples is not a whole number of %d-channel frames", len(w.Samples), w.Channels)
		}
		if len(w.Samples) > len(data) {
			t.Fatalf("%d samples from %d bytes of input", len(w.Samples), len(data))
		}

		var buf bytes.Buffer
		mono := w.Mono()
		if err := WriteWAV(&buf, w.SampleRate, mono); err != nil {
			t.Fatalf("WriteWAV: %v", err)
		}
		back, err := ReadWAV(&buf)
		if err != nil {
			t.Fatalf("ReadWAV of our own output: %v", err)
		}
		if !slices.Equal(back.Samples, mono) {
			t.Fatal("round trip through WriteWAV changed the samples")
		}
	})
}
