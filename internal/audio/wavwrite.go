package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

const (
	wavHeaderSize = 44
	// maxWAVDataSize keeps the RIFF size field, data size plus 36, within
	// 32 bits.
	maxWAVDataSize = math.MaxUint32 - (wavHeaderSize - 8)
	// unknownWAVSize is the size WAVWriter writes until Close patches it.
	// Readers, ReadWAV among them, take it to mean "up to the end of file".
	unknownWAVSize = math.MaxUint32
	wavWriteBlock  = 4096 // samples converted per Write call to w
)

// ErrWAVWriterClosed is returned by WAVWriter.Write after Close.
var ErrWAVWriterClosed = errors.New("WAV writer closed")

// WriteWAV writes samples as a mono PCM16 WAV file at rate Hz.
func WriteWAV(w io.Writer, rate int, samples []int16) error {
	if err := validateWAVRate(rate); err != nil {
		return err
	}
	dataSize := 2 * int64(len(samples))
	if dataSize > maxWAVDataSize {
		return fmt.Errorf("write WAV: %d bytes of samples exceed the %d-byte WAV limit", dataSize, maxWAVDataSize)
	}
	header := wavHeader(rate, uint32(dataSize))
	if _, err := w.Write(header[:]); err != nil {
		return fmt.Errorf("write WAV header: %w", err)
	}
	buf := make([]byte, 0, 2*min(len(samples), wavWriteBlock))
	if _, err := writeSamples(w, buf, samples); err != nil {
		return fmt.Errorf("write WAV data: %w", err)
	}
	return nil
}

// A WAVWriter streams mono PCM16 samples to a WAV file, so a recording need
// not fit in memory. The header is written with unknown sizes first and
// Close writes the real ones. A file whose writer was never closed still
// reads with ReadWAV up to its last whole sample.
//
// A WAVWriter is not safe for concurrent use.
type WAVWriter struct {
	w        io.WriteSeeker
	start    int64 // offset of the header in w
	dataSize int64
	buf      []byte
	err      error // first write error; later calls return it
	closed   bool
}

// NewWAVWriter writes a WAV header for rate Hz at the current offset of w and
// returns a writer for the samples. Closing w stays with the caller, after
// WAVWriter.Close.
func NewWAVWriter(w io.WriteSeeker, rate int) (*WAVWriter, error) {
	if err := validateWAVRate(rate); err != nil {
		return nil, err
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("create WAV writer: %w", err)
	}
	header := wavHeader(rate, unknownWAVSize)
	if _, err := w.Write(header[:]); err != nil {
		return nil, fmt.Errorf("write WAV header: %w", err)
	}
	return &WAVWriter{w: w, start: start, buf: make([]byte, 0, 2*wavWriteBlock)}, nil
}

// Write appends samples to the file. It fails once the data would pass the
// 4 GiB limit of the WAV size fields (about 37 hours at 16 kHz), and after
// any earlier write error.
func (ww *WAVWriter) Write(samples []int16) error {
	if ww.closed {
		return ErrWAVWriterClosed
	}
	if ww.err != nil {
		return ww.err
	}
	if size := ww.dataSize + 2*int64(len(samples)); size > maxWAVDataSize {
		return fmt.Errorf("write WAV: %d bytes of samples exceed the %d-byte WAV limit", size, maxWAVDataSize)
	}
	n, err := writeSamples(ww.w, ww.buf, samples)
	ww.dataSize += n
	if err != nil {
		ww.err = fmt.Errorf("write WAV data: %w", err)
		return ww.err
	}
	return nil
}

// Close writes the RIFF and data sizes into the header and leaves the offset
// of w at the end of the data. It does not close w. Calls after the first
// return nil.
func (ww *WAVWriter) Close() error {
	if ww.closed {
		return nil
	}
	ww.closed = true
	if err := ww.patchSize(4, riffSize(uint32(ww.dataSize))); err != nil {
		return err
	}
	if err := ww.patchSize(40, uint32(ww.dataSize)); err != nil {
		return err
	}
	end := ww.start + wavHeaderSize + ww.dataSize
	if _, err := ww.w.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("close WAV writer: %w", err)
	}
	return nil
}

// patchSize overwrites the 32-bit size field at offset in the header.
func (ww *WAVWriter) patchSize(offset int64, size uint32) error {
	if _, err := ww.w.Seek(ww.start+offset, io.SeekStart); err != nil {
		return fmt.Errorf("close WAV writer: %w", err)
	}
	var field [4]byte
	binary.LittleEndian.PutUint32(field[:], size)
	if _, err := ww.w.Write(field[:]); err != nil {
		return fmt.Errorf("close WAV writer: %w", err)
	}
	return nil
}

// writeSamples writes samples as PCM16 through buf in blocks and returns the
// number of bytes written.
func writeSamples(w io.Writer, buf []byte, samples []int16) (int64, error) {
	var written int64
	for len(samples) > 0 {
		n := min(len(samples), wavWriteBlock)
		buf = PCM16ToBytes(buf[:0], samples[:n])
		samples = samples[n:]
		m, err := w.Write(buf)
		written += int64(m)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func validateWAVRate(rate int) error {
	if rate < 1 || rate > maxSampleRate {
		return fmt.Errorf("write WAV: sample rate %d Hz, want 1 to %d", rate, maxSampleRate)
	}
	return nil
}

// wavHeader returns the 44-byte header of a mono PCM16 WAV file.
func wavHeader(rate int, dataSize uint32) [wavHeaderSize]byte {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], riffSize(dataSize))
	copy(h[8:12], "WAVE")
	copy(h[12:16], "fmt ")
	le.PutUint32(h[16:20], 16) // fmt chunk size
	le.PutUint16(h[20:22], wavFormatPCM)
	le.PutUint16(h[22:24], 1) // channels
	le.PutUint32(h[24:28], uint32(rate))
	le.PutUint32(h[28:32], uint32(2*rate)) // byte rate
	le.PutUint16(h[32:34], 2)              // block align
	le.PutUint16(h[34:36], 16)             // bits per sample
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], dataSize)
	return h
}

// riffSize returns the RIFF chunk size for a data chunk of dataSize bytes. It
// saturates at the unknown size, which an unknown data size also maps to.
func riffSize(dataSize uint32) uint32 {
	if dataSize > maxWAVDataSize {
		return unknownWAVSize
	}
	return dataSize + wavHeaderSize - 8
}
