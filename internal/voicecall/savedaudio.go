package voicecall

import (
	"errors"
	"fmt"
	"os"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// audioSink streams the assistant's audio to a mono PCM16 WAV file. A nil sink
// discards everything, so callers need not check whether saving was asked for.
type audioSink struct {
	path    string
	file    *os.File
	wav     *audio.WAVWriter
	samples []int16 // scratch for one chunk
}

// createAudioSink creates the file at path for audio at rate Hz. It returns a nil
// sink when path is empty.
func createAudioSink(path string, rate int) (*audioSink, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("save audio: %w", err)
	}
	w, err := audio.NewWAVWriter(f, rate)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("save audio to %s: %w", path, err)
	}
	return &audioSink{path: path, file: f, wav: w}, nil
}

// writePCM16 appends little-endian PCM16 bytes.
func (s *audioSink) writePCM16(b []byte) error {
	if s == nil {
		return nil
	}
	s.samples = audio.PCM16FromBytes(s.samples[:0], b)
	return s.write()
}

// writeMulaw appends μ-law bytes, decoded to PCM16.
func (s *audioSink) writeMulaw(b []byte) error {
	if s == nil {
		return nil
	}
	s.samples = audio.DecodeMulaw(s.samples[:0], b)
	return s.write()
}

func (s *audioSink) write() error {
	if err := s.wav.Write(s.samples); err != nil {
		return fmt.Errorf("save audio to %s: %w", s.path, err)
	}
	return nil
}

// close writes the WAV sizes and closes the file.
func (s *audioSink) close() error {
	if s == nil {
		return nil
	}
	err := errors.Join(s.wav.Close(), s.file.Close())
	if err != nil {
		return fmt.Errorf("save audio to %s: %w", s.path, err)
	}
	return nil
}
