package localmodel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// Voice defaults.
const (
	DefaultVoiceBinary = "espeak-ng"
	DefaultVoiceName   = "en-us"
	// MaxSpeechRunes bounds the text of one Speak call; longer text is cut at a
	// word boundary. The policy's longest reply, a read-back of a full order, is
	// a few hundred characters.
	MaxSpeechRunes = 1500
	// voiceRate is the rate of espeak-ng's WAV output.
	voiceRate = 22050
	// voiceReadSize is how much synthesized audio is read and passed on at a
	// time: 4096 bytes is about 93 ms at 22050 Hz.
	voiceReadSize = 4096
	// voiceWaitDelay bounds the wait for espeak-ng's output to close after it
	// was killed.
	voiceWaitDelay = 2 * time.Second
	// maxWAVHeaderChunk bounds a chunk skipped before the data chunk.
	maxWAVHeaderChunk = 1 << 16
	maxVoiceStderr    = 512
)

// Voice speaks text with espeak-ng. espeak-ng is GPL-licensed, so it runs as a
// separate process and is never linked into this program.
type Voice struct {
	// Binary is the espeak-ng executable. Default DefaultVoiceBinary.
	Binary string
	// Name is the espeak-ng voice, such as "en-us". Default DefaultVoiceName.
	Name string
	// WordsPerMinute is the speaking rate; zero keeps espeak-ng's default of 175.
	WordsPerMinute int
}

// Speak synthesizes text and calls emit with the audio in the out format as
// espeak-ng produces it, so the first audio goes out before the whole text is
// spoken. espeak-ng runs in its own process group, which is killed when ctx ends
// or emit fails, and it is always waited for. Speak returns ctx's error when ctx
// ended it, and emit's error when emit failed.
func (v Voice) Speak(ctx context.Context, text string, out audio.Format, emit func([]byte) error) error {
	text = capText(strings.TrimSpace(text), MaxSpeechRunes)
	if text == "" {
		return nil
	}
	conv, err := audio.NewConverter(audio.Format{Encoding: audio.PCM16, Rate: voiceRate}, out)
	if err != nil {
		return fmt.Errorf("speak: %w", err)
	}

	procCtx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := v.command(procCtx, text)
	stderr := &limitedBuffer{max: maxVoiceStderr}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("speak: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("speak: start %s: %w", cmd.Path, err)
	}

	n, streamErr := streamWAV(stdout, conv, emit)
	if streamErr != nil {
		kill() // kills the process group; Wait below reaps it
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case streamErr != nil:
		return streamErr
	case waitErr != nil:
		return fmt.Errorf("speak: espeak-ng: %w: %s", waitErr, stderr.String())
	case n == 0:
		return fmt.Errorf("speak: espeak-ng produced no audio: %s", stderr.String())
	}
	return nil
}

func (v Voice) command(ctx context.Context, text string) *exec.Cmd {
	bin := v.Binary
	if bin == "" {
		bin = DefaultVoiceBinary
	}
	name := v.Name
	if name == "" {
		name = DefaultVoiceName
	}
	args := []string{"--stdout", "-v", name}
	if v.WordsPerMinute > 0 {
		args = append(args, "-s", fmt.Sprint(v.WordsPerMinute))
	}
	// The text goes on standard input, so no text can be read as an option.
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(text)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// A negative pid signals the whole process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = voiceWaitDelay
	return cmd
}

// streamWAV reads a WAV stream whose sizes may be placeholders (espeak-ng writes
// 0x7ffff000 or 0xffffffff when its output is a pipe), converts the samples and
// passes them to emit as they arrive. It returns the number of data bytes read.
func streamWAV(r io.Reader, conv *audio.Converter, emit func([]byte) error) (int, error) {
	if err := readWAVHeader(r); err != nil {
		return 0, err
	}
	buf := make([]byte, voiceReadSize)
	var converted []byte
	total := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			total += n
			converted = conv.Convert(converted[:0], buf[:n])
			if len(converted) > 0 {
				if emitErr := emit(converted); emitErr != nil {
					return total, emitErr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return total, fmt.Errorf("speak: read audio: %w", err)
		}
	}
	if converted = conv.Flush(converted[:0]); len(converted) > 0 {
		if err := emit(converted); err != nil {
			return total, err
		}
	}
	return total, nil
}

// readWAVHeader reads up to the start of the data chunk and checks that the audio
// is mono PCM16 at espeak-ng's rate.
func readWAVHeader(r io.Reader) error {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return fmt.Errorf("speak: read WAV header: %w", err)
	}
	if string(riff[:4]) != "RIFF" || string(riff[8:]) != "WAVE" {
		return fmt.Errorf("speak: output is not a WAV stream (starts %q)", riff[:])
	}
	sawFormat := false
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return fmt.Errorf("speak: read WAV chunk: %w", err)
		}
		id, size := string(head[:4]), binary.LittleEndian.Uint32(head[4:])
		if id == "data" {
			if !sawFormat {
				return errors.New("speak: WAV data chunk before fmt chunk")
			}
			return nil
		}
		if size > maxWAVHeaderChunk {
			return fmt.Errorf("speak: WAV chunk %q of %d bytes is too large", id, size)
		}
		body := make([]byte, size+size%2)
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("speak: read WAV chunk %q: %w", id, err)
		}
		if id != "fmt " {
			continue
		}
		if size < 16 {
			return fmt.Errorf("speak: WAV fmt chunk of %d bytes, want at least 16", size)
		}
		format := binary.LittleEndian.Uint16(body[0:])
		channels := binary.LittleEndian.Uint16(body[2:])
		rate := binary.LittleEndian.Uint32(body[4:])
		bits := binary.LittleEndian.Uint16(body[14:])
		if format != 1 || channels != 1 || rate != voiceRate || bits != 16 {
			return fmt.Errorf("speak: WAV format %d, %d channels, %d Hz, %d bits; want PCM, 1 channel, %d Hz, 16 bits",
				format, channels, rate, bits, voiceRate)
		}
		sawFormat = true
	}
}

// capText cuts text to at most limit runes, at the last space before the limit.
func capText(text string, limit int) string {
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	cut := []rune(text)[:limit]
	s := string(cut)
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	return s
}

// limitedBuffer keeps the first max bytes written and drops the rest, for a
// subprocess's standard error.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return strings.TrimSpace(b.buf.String()) }
