package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors that ReadWAV wraps, for errors.Is.
var (
	// ErrInvalidWAV reports input that is not a well-formed WAV file.
	ErrInvalidWAV = errors.New("invalid WAV")
	// ErrUnsupportedWAV reports a well-formed WAV file in an encoding this
	// package does not decode.
	ErrUnsupportedWAV = errors.New("unsupported WAV")
)

// WAV format codes (wFormatTag) that ReadWAV accepts.
const (
	wavFormatPCM        = 0x0001
	wavFormatMulaw      = 0x0007
	wavFormatExtensible = 0xFFFE
)

// wavFormatNames names other common format codes in error messages.
var wavFormatNames = map[uint16]string{
	0x0001: "PCM",
	0x0002: "Microsoft ADPCM",
	0x0003: "IEEE float",
	0x0006: "A-law",
	0x0007: "μ-law",
	0x0011: "IMA ADPCM",
	0x0031: "GSM 6.10",
	0x0055: "MP3",
	0xFFFE: "WAVE_FORMAT_EXTENSIBLE",
}

// guidSuffix is the part that every KSDATAFORMAT_SUBTYPE GUID derived from a
// format code shares. The code itself is in the first two bytes.
var guidSuffix = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

const supportedWAVFormats = "supported: PCM 16-bit (format 1), μ-law 8-bit (format 7), and WAVE_FORMAT_EXTENSIBLE (format 0xFFFE) with either as sub-format"

const maxWAVChannels = 8

// WAV is decoded WAV audio.
type WAV struct {
	SampleRate int // Hz
	Channels   int
	// Encoding is the encoding of the file's data chunk. Samples are
	// always decoded to PCM16.
	Encoding Encoding
	// Samples contains the samples, interleaved by channel.
	Samples []int16
}

// Mono returns the samples mixed down to one channel. With one channel it
// returns Samples itself.
func (w *WAV) Mono() []int16 {
	if w.Channels == 1 {
		return w.Samples
	}
	return Downmix(nil, w.Samples, w.Channels)
}

// Duration returns the length of the audio, or 0 when the rate or channel
// count is unset.
func (w *WAV) Duration() time.Duration {
	if w.SampleRate < 1 || w.Channels < 1 {
		return 0
	}
	frames := int64(len(w.Samples) / w.Channels)
	return time.Duration(frames * int64(time.Second) / int64(w.SampleRate))
}

// wavFormat is the part of a fmt chunk that ReadWAV uses.
type wavFormat struct {
	encoding   Encoding
	channels   int
	sampleRate int
	blockAlign int
}

// ReadWAV reads a RIFF WAV file containing PCM16 or 8-bit μ-law audio,
// directly or as the sub-format of WAVE_FORMAT_EXTENSIBLE, with 1 to 8
// channels.
// Chunks other than fmt and data (LIST, fact, cue and so on) are skipped,
// and reading stops after the data chunk.
//
// A data chunk shorter than its header states is accepted with the samples
// present, because streaming writers that stop early (including a WAVWriter
// that was never closed) leave such files. A trailing partial sample frame
// is dropped.
//
// ReadWAV holds the whole data chunk in memory, so limit r for untrusted
// input. Errors wrap ErrInvalidWAV or ErrUnsupportedWAV, or the read error.
func ReadWAV(r io.Reader) (*WAV, error) {
	var header [12]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, readError("header", err)
	}
	if string(header[0:4]) != "RIFF" || string(header[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: file starts with %q, want RIFF....WAVE", ErrInvalidWAV, header[:])
	}

	var format *wavFormat
	for {
		id, size, err := readChunkHeader(r)
		if err != nil {
			return nil, err
		}
		switch id {
		case "fmt ":
			if format, err = readFormatChunk(r, size); err != nil {
				return nil, err
			}
		case "data":
			if format == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrInvalidWAV)
			}
			return readDataChunk(r, size, format)
		default:
			if err := skipChunk(r, id, size); err != nil {
				return nil, err
			}
		}
	}
}

// readError wraps an error from reading part of a WAV file. Input that ends
// early is a truncated file, which wraps ErrInvalidWAV. Other read errors
// pass through.
func readError(part string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s truncated", ErrInvalidWAV, part)
	}
	return fmt.Errorf("read WAV %s: %w", part, err)
}

func readChunkHeader(r io.Reader) (id string, size uint32, err error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return "", 0, fmt.Errorf("%w: no data chunk", ErrInvalidWAV)
		}
		return "", 0, readError("chunk header", err)
	}
	return string(h[0:4]), binary.LittleEndian.Uint32(h[4:8]), nil
}

// skipChunk discards a chunk's body and its pad byte, since RIFF chunks
// start at even offsets.
func skipChunk(r io.Reader, id string, size uint32) error {
	n := int64(size) + int64(size&1)
	if _, err := io.CopyN(io.Discard, r, n); err != nil {
		return readError(fmt.Sprintf("chunk %q of %d bytes", id, size), err)
	}
	return nil
}

func readFormatChunk(r io.Reader, size uint32) (*wavFormat, error) {
	// 40 bytes is the WAVE_FORMAT_EXTENSIBLE layout, the largest one read.
	if size < 16 || size > 1024 {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes, want 16 to 1024", ErrInvalidWAV, size)
	}
	body := make([]byte, int(size)+int(size&1))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, readError("fmt chunk", err)
	}
	body = body[:size]

	code := binary.LittleEndian.Uint16(body[0:2])
	channels := int(binary.LittleEndian.Uint16(body[2:4]))
	rate := binary.LittleEndian.Uint32(body[4:8])
	blockAlign := int(binary.LittleEndian.Uint16(body[12:14]))
	bits := int(binary.LittleEndian.Uint16(body[14:16]))

	if code == wavFormatExtensible {
		sub, err := extensibleSubFormat(body)
		if err != nil {
			return nil, err
		}
		code = sub
	}

	f := &wavFormat{channels: channels, sampleRate: int(rate), blockAlign: blockAlign}
	switch {
	case code == wavFormatPCM && bits == 16:
		f.encoding = PCM16
	case code == wavFormatMulaw && bits == 8:
		f.encoding = Mulaw
	default:
		return nil, fmt.Errorf("%w: format %s, %d-bit; %s",
			ErrUnsupportedWAV, formatCodeName(code), bits, supportedWAVFormats)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// extensibleSubFormat returns the format code inside a WAVE_FORMAT_EXTENSIBLE
// fmt chunk.
func extensibleSubFormat(body []byte) (uint16, error) {
	if len(body) < 40 {
		return 0, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", ErrInvalidWAV, len(body))
	}
	guid := body[24:40]
	if !bytes.Equal(guid[2:], guidSuffix) {
		return 0, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE sub-format GUID % x is not a format code; %s",
			ErrUnsupportedWAV, guid, supportedWAVFormats)
	}
	return binary.LittleEndian.Uint16(guid[0:2]), nil
}

func (f *wavFormat) validate() error {
	if f.channels < 1 || f.channels > maxWAVChannels {
		return fmt.Errorf("%w: %d channels; supported: 1 to %d", ErrUnsupportedWAV, f.channels, maxWAVChannels)
	}
	if f.sampleRate < 1 || f.sampleRate > maxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz, want 1 to %d", ErrInvalidWAV, f.sampleRate, maxSampleRate)
	}
	if want := f.channels * f.encoding.bytesPerSample(); f.blockAlign != want {
		return fmt.Errorf("%w: block align %d, want %d for %d channels of %s",
			ErrInvalidWAV, f.blockAlign, want, f.channels, f.encoding)
	}
	return nil
}

func formatCodeName(code uint16) string {
	if name, ok := wavFormatNames[code]; ok {
		return fmt.Sprintf("%d (%s)", code, name)
	}
	return fmt.Sprintf("%d (0x%04X)", code, code)
}

// readDataChunk decodes up to size bytes of samples. It reads in blocks and
// grows the result as bytes arrive, so a false size in the header cannot
// make it allocate more than the input holds.
func readDataChunk(r io.Reader, size uint32, f *wavFormat) (*WAV, error) {
	const block = 32 << 10
	w := &WAV{SampleRate: f.sampleRate, Channels: f.channels, Encoding: f.encoding}
	buf := make([]byte, block)
	carry := 0 // bytes of a sample split between blocks
	remaining := int64(size)
	for remaining > 0 {
		want := min(int64(len(buf)-carry), remaining)
		n, err := io.ReadFull(r, buf[carry:carry+int(want)])
		remaining -= int64(n)
		carry = w.decode(buf[:carry+n])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // shorter than stated; see ReadWAV
		}
		if err != nil {
			return nil, fmt.Errorf("read WAV data: %w", err)
		}
	}
	// Drop a trailing partial frame so every channel has the same length.
	w.Samples = w.Samples[:len(w.Samples)-len(w.Samples)%w.Channels]
	return w, nil
}

// decode appends the whole samples in b to w.Samples, moves the bytes of a
// trailing partial sample to the front of b and returns their count.
func (w *WAV) decode(b []byte) int {
	whole := len(b)
	switch w.Encoding {
	case PCM16:
		whole -= len(b) % 2
		w.Samples = PCM16FromBytes(w.Samples, b[:whole])
	case Mulaw:
		w.Samples = DecodeMulaw(w.Samples, b)
	}
	return copy(b, b[whole:])
}
